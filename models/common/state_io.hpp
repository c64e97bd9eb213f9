// Checkpoint serialization: one visitor, StateIO, either writes or reads every field of a
// model's state in the same order, so a class has one state_io(StateIO&) function for
// both directions. Each field is stored as (name, type code, element count, raw bytes);
// the reader checks the name, the type and (for fixed-size fields) the count, and names
// the field and the file in every error. Used by `memplast train` checkpoints
// (models/cli/checkpoint.*, docs/reliability.md).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "common/rng.hpp"

namespace memplast {

class StateIO {
 public:
  // A writer appends to its buffer; a reader consumes `data` (origin names it in errors).
  static StateIO writer() { return StateIO(true, {}, ""); }
  static StateIO reader(std::string data, std::string origin) {
    return StateIO(false, std::move(data), std::move(origin));
  }

  [[nodiscard]] bool writing() const { return writing_; }
  [[nodiscard]] bool reading() const { return !writing_; }
  [[nodiscard]] const std::string& buffer() const { return buf_; }
  [[nodiscard]] const std::string& origin() const { return origin_; }
  // Throws unless every byte was consumed.
  void expect_end() const;

  // A scalar of arithmetic or enum type.
  template <class T>
  void value(const char* name, T& v) {
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>);
    field(name, type_code<T>(), 1, sizeof(T), &v, true);
  }
  // A vector of arithmetic or enum type; `fixed`: on reading, its size must already be
  // the stored one (a state of another geometry is an error), else it is resized.
  template <class T>
  void vec(const char* name, std::vector<T>& v, bool fixed = true) {
    static_assert(std::is_arithmetic_v<T> || std::is_enum_v<T>);
    std::uint64_t n = v.size();
    if (reading()) {
      n = peek_count(name, type_code<T>(), sizeof(T));
      if (fixed && n != v.size()) size_error(name, n, v.size());
      v.resize(n);
    }
    field(name, type_code<T>(), n, sizeof(T), v.data(), fixed);
  }
  // Raw array of n elements (e.g. an Eigen matrix's storage), fixed size.
  template <class T>
  void array(const char* name, T* data, std::uint64_t n) {
    static_assert(std::is_arithmetic_v<T>);
    field(name, type_code<T>(), n, sizeof(T), data, true);
  }
  void str(const char* name, std::string& s);
  void rng(const char* name, Rng& r);
  void rngs(const char* name, std::vector<Rng>& v);
  // A section marker: a reader expects the same name here (catches a layout mismatch
  // close to its cause).
  void section(const char* name);

 private:
  StateIO(bool w, std::string data, std::string origin)
      : writing_(w), buf_(std::move(data)), origin_(std::move(origin)) {}
  template <class T>
  static constexpr std::uint8_t type_code() {
    if constexpr (std::is_enum_v<T>) {
      return type_code<std::underlying_type_t<T>>();
    } else if constexpr (std::is_same_v<T, bool>) {
      return 1;
    } else if constexpr (std::is_floating_point_v<T>) {
      return static_cast<std::uint8_t>(16 + sizeof(T));
    } else if constexpr (std::is_signed_v<T>) {
      return static_cast<std::uint8_t>(32 + sizeof(T));
    } else {
      return static_cast<std::uint8_t>(48 + sizeof(T));
    }
  }
  void field(const char* name, std::uint8_t type, std::uint64_t n, std::size_t elem, void* data,
             bool fixed);
  std::uint64_t peek_count(const char* name, std::uint8_t type, std::size_t elem);
  [[noreturn]] void size_error(const char* name, std::uint64_t stored, std::uint64_t expected);
  [[noreturn]] void fail(const std::string& what) const;
  void need(std::size_t bytes, const char* name) const;

  bool writing_;
  std::string buf_;
  std::size_t pos_{0};
  std::string origin_;
};

}  // namespace memplast
