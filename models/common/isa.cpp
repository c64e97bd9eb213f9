#include "common/isa.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace memplast {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    default: return "generic";
  }
}

bool cpu_supports(Isa isa) {
  if (isa == Isa::generic) return true;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
#if defined(__clang__)
  // clang 14 knows no "lzcnt" feature string (the fuzz build); every x86-64 CPU with
  // AVX2, FMA and BMI2 has LZCNT.
  const bool kLzcnt = true;
#else
  const bool kLzcnt = __builtin_cpu_supports("lzcnt");
#endif
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                    __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2") && kLzcnt &&
                    __builtin_cpu_supports("popcnt");
  if (isa == Isa::avx2) return avx2;
  return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl");
#else
  return false;
#endif
}

Isa best_isa() {
  if (cpu_supports(Isa::avx512)) return Isa::avx512;
  if (cpu_supports(Isa::avx2)) return Isa::avx2;
  return Isa::generic;
}

Isa select_isa(const char* env_var) {
  const char* name = env_var;
  const char* v = std::getenv(env_var);
  if (v == nullptr || *v == '\0') {
    name = "MEMPLAST_ISA";
    v = std::getenv(name);
  }
  if (v == nullptr || *v == '\0') return best_isa();
  const std::string s(v);
  Isa isa = Isa::generic;
  if (s == "auto") return best_isa();
  if (s == "generic") {
    isa = Isa::generic;
  } else if (s == "avx2") {
    isa = Isa::avx2;
  } else if (s == "avx512") {
    isa = Isa::avx512;
  } else {
    throw std::runtime_error(fmt::format(
        "{}={}: unknown instruction-set path (expected generic, avx2, avx512 or auto)", name, s));
  }
  if (!cpu_supports(isa)) {
    throw std::runtime_error(fmt::format("{}={}: this CPU does not support that path (best: {})",
                                         name, s, isa_name(best_isa())));
  }
  return isa;
}

}  // namespace memplast
