// The three symbols the prebuilt @jazzer.js/fuzzer 4.0.0 addon takes from glibc 2.38 and
// libstdc++ 13 that Debian 12 (glibc 2.36, libstdc++ 12) lacks. Preloaded by fuzz/jazzer-env.ts
// only when the addon does not load as shipped.
#include <cstdlib>
#include <ios>

// C23 versions of strtol/strtoul: they differ only in also reading a "0b" prefix in base 0 or 2,
// which libFuzzer's flag parsing never asks for.
extern "C" long __isoc23_strtol(const char *text, char **end, int base) {
  return std::strtol(text, end, base);
}
extern "C" unsigned long __isoc23_strtoul(const char *text, char **end, int base) {
  return std::strtoul(text, end, base);
}

// GCC 13 initialises the standard streams through this call instead of a static ios_base::Init
// in every translation unit; one such object does the same on libstdc++ 12.
namespace std {
void ios_base_library_init() { static ios_base::Init init; }
}
