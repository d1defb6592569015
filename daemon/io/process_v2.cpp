// Boost.Process v2 (Boost 1.81) compiled once into this program, as its documentation asks
// when BOOST_PROCESS_V2_SEPARATE_COMPILATION is defined (set for all targets in CMake).
#include <boost/process/v2/src.hpp>
