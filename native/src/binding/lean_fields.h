// Lean reads of a struct argument on the raw N-API, for the per-token decode calls (decode_hope.cc,
// decode_titans.cc):
// one typed-array query per array and one key count for the unknown-field check, instead of
// memory::Fields' wrapped queries and key-by-key string compares (~0.5 µs a field; a Hope block
// call has ~40). Any irregularity — a missing or mistyped field, a wrong size, a dtype mix, an
// integer out of range, more keys than fields read — only marks the read failed: the caller then
// re-reads with memory::Fields, which throws the precise error or accepts the call. The getters
// mirror Fields' (integer, finite, nonnegative, flag, done), so one template can read the dims with either.
#pragma once
#include <node_api.h>

#include <cmath>
#include <cstdint>

namespace nl::binding {

struct LeanArray {
  void* data = nullptr;
  bool present = false;
};

class LeanFields {
 public:
  LeanFields(napi_env env, napi_value obj) : env_(env), obj_(obj) {
    napi_valuetype t;
    bool arr = false, ta = false;
    ok_ = napi_typeof(env, obj, &t) == napi_ok && t == napi_object && napi_is_array(env, obj, &arr) == napi_ok &&
          !arr && napi_is_typedarray(env, obj, &ta) == napi_ok && !ta;
  }
  bool ok() const { return ok_; }

  // A Float32Array / Float64Array of n elements sharing *dtype (napi_int8_array: not yet set);
  // absent (undefined / null) allowed when optional.
  LeanArray array(const char* name, int64_t n, bool optional, napi_typedarray_type* dtype) {
    LeanArray out;
    napi_value v;
    if (!get(name, &v)) return out;
    napi_valuetype t;
    if (napi_typeof(env_, v, &t) != napi_ok) return fail(out);
    if (t == napi_undefined || t == napi_null) {
      if (!optional) return fail(out);
      if (t == napi_null) ++keys_;  // an own key (undefined may be an absent one)
      return out;
    }
    bool ta = false;
    if (napi_is_typedarray(env_, v, &ta) != napi_ok || !ta) return fail(out);
    napi_typedarray_type type;
    size_t len = 0, off = 0;
    void* data = nullptr;
    napi_value buf;
    if (napi_get_typedarray_info(env_, v, &type, &len, &data, &buf, &off) != napi_ok) return fail(out);
    if (type != napi_float32_array && type != napi_float64_array) return fail(out);
    if (*dtype == napi_int8_array) *dtype = type;
    else if (type != *dtype) return fail(out);
    if (n < 0 || static_cast<int64_t>(len) != n) return fail(out);
    ++keys_;
    out.data = data;  // already at the view's first element
    out.present = true;
    return out;
  }

  // An integer >= min (exact in a double).
  int64_t integer(const char* name, int64_t min) {
    double v = 0;
    if (!number(name, &v)) return min;
    if (!(v >= static_cast<double>(min)) || v > 9007199254740991.0 || v != std::trunc(v)) {
      ok_ = false;
      return min;
    }
    return static_cast<int64_t>(v);
  }

  double finite(const char* name) {
    double v = 0;
    if (number(name, &v) && !std::isfinite(v)) ok_ = false;
    return v;
  }

  // A finite number >= 0; dflt when absent (undefined).
  double nonnegative(const char* name, double dflt) {
    napi_value v;
    napi_valuetype t;
    if (!present(name, &v, &t)) return dflt;
    double d = 0;
    if (t != napi_number || napi_get_value_double(env_, v, &d) != napi_ok || !std::isfinite(d) || d < 0)
      return fail(dflt);
    ++keys_;
    return d;
  }

  // A boolean; dflt when absent.
  bool flag(const char* name, bool dflt) {
    napi_value v;
    napi_valuetype t;
    if (!present(name, &v, &t)) return dflt;
    bool b = dflt;
    if (t != napi_boolean || napi_get_value_bool(env_, v, &b) != napi_ok) return fail(dflt);
    ++keys_;
    return b;
  }

  // True when every read succeeded and the object has no keys besides those read.
  bool done() {
    if (!ok_) return false;
    napi_value names;
    uint32_t n = 0;
    if (napi_get_property_names(env_, obj_, &names) != napi_ok || napi_get_array_length(env_, names, &n) != napi_ok)
      return false;
    return n == keys_;
  }

 private:
  bool get(const char* name, napi_value* v) {
    if (!ok_) return false;
    if (napi_get_named_property(env_, obj_, name, v) != napi_ok) return fail(false);
    return true;
  }
  // An optional field: its value and type when present (not undefined); false when absent or when
  // the read failed (marked failed).
  bool present(const char* name, napi_value* v, napi_valuetype* t) {
    if (!get(name, v)) return false;
    if (napi_typeof(env_, *v, t) != napi_ok) return fail(false);
    return *t != napi_undefined;
  }
  bool number(const char* name, double* out) {
    napi_value v;
    if (!get(name, &v)) return false;
    napi_valuetype t;
    if (napi_typeof(env_, v, &t) != napi_ok || t != napi_number || napi_get_value_double(env_, v, out) != napi_ok)
      return fail(false);
    ++keys_;
    return true;
  }
  template <typename R>
  R fail(R r) {
    ok_ = false;
    return r;
  }

  napi_env env_;
  napi_value obj_;
  bool ok_ = true;
  uint32_t keys_ = 0;
};

}  // namespace nl::binding
