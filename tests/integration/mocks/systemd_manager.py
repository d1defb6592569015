'''python-dbusmock template: the part of systemd's D-Bus API dailysyncd calls (StartUnit),
on the session bus; dbusmock's call log (-l FILE) records each call for the alert tests.'''

BUS_NAME = 'org.freedesktop.systemd1'
MAIN_OBJ = '/org/freedesktop/systemd1'
MAIN_IFACE = 'org.freedesktop.systemd1.Manager'
SYSTEM_BUS = False


def load(mock, parameters):
    mock.AddMethod(MAIN_IFACE, 'StartUnit', 'ss', 'o', "ret = dbus.ObjectPath('/org/freedesktop/systemd1/job/1')")
