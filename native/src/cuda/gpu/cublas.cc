#include "cuda/gpu/cublas.h"
#include "cuda/cuda_api.h"

#include <dlfcn.h>
#include <glob.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace nl::cuda::cublas {

// The cuBLAS v2 ABI we use (stable across 11-13): handles are opaque pointers, status and enums ints.
using Status = int;
using Handle = void*;
struct Api {
  std::string path;
  Status (*create)(Handle*);
  Status (*set_stream)(Handle, void*);
  Status (*set_math_mode)(Handle, int);
  Status (*sgemm)(Handle, int, int, int, int, int, const float*, const float*, int, long long, const float*, int,
                  long long, const float*, float*, int, long long, int);
  Status (*dgemm)(Handle, int, int, int, int, int, const double*, const double*, int, long long, const double*, int,
                  long long, const double*, double*, int, long long, int);
  // cublasGemmStridedBatchedEx (may be absent in very old cuBLAS)
  Status (*gemm_ex)(Handle, int, int, int, int, int, const void*, const void*, int, int, long long, const void*, int,
                    int, long long, const void*, void*, int, int, long long, int, int, int);
};

namespace {

constexpr int kOpN = 0, kOpT = 1;
constexpr int kDefaultMath = 0, kTf32Math = 3;

std::vector<std::string> candidates() {
  std::vector<std::string> out;
  const char* names[] = {"libcublas.so.13", "libcublas.so.12", "libcublas.so"};
  if (const char* p = std::getenv("NL_CUBLAS_PATH"); p != nullptr && *p) {
    std::string s(p);
    if (s.size() > 3 && s.find(".so") != std::string::npos) out.push_back(s);
    else
      for (const char* n : names) out.push_back(s + "/" + n);
  }
  for (const char* n : names) out.push_back(n);  // the loader's paths (LD_LIBRARY_PATH, ld.so.cache)
  std::vector<std::string> dirs;
  if (const char* c = std::getenv("CUDA_PATH")) dirs.push_back(std::string(c) + "/lib64");
  if (const char* c = std::getenv("CUDA_HOME")) dirs.push_back(std::string(c) + "/lib64");
  dirs.push_back("/usr/local/cuda/lib64");
  const char* wheel_globs[] = {
      "/usr/local/lib/python3*/dist-packages/nvidia/cublas/lib",
      "/usr/local/lib/python3*/site-packages/nvidia/cublas/lib",
      "/usr/lib/python3*/dist-packages/nvidia/cublas/lib",
      "/usr/lib/python3/dist-packages/nvidia/cublas/lib",
      "/opt/conda/lib/python3*/site-packages/nvidia/cublas/lib",
      "/root/.local/lib/python3*/site-packages/nvidia/cublas/lib",
  };
  std::vector<std::string> patterns(std::begin(wheel_globs), std::end(wheel_globs));
  if (const char* v = std::getenv("VIRTUAL_ENV")) patterns.push_back(std::string(v) + "/lib/python3*/site-packages/nvidia/cublas/lib");
  if (const char* h = std::getenv("HOME")) patterns.push_back(std::string(h) + "/.local/lib/python3*/site-packages/nvidia/cublas/lib");
  for (const auto& pat : patterns) {
    glob_t g{};
    if (glob(pat.c_str(), 0, nullptr, &g) == 0)
      for (size_t i = 0; i < g.gl_pathc; ++i) dirs.push_back(g.gl_pathv[i]);
    globfree(&g);
  }
  for (const auto& d : dirs)
    for (const char* n : names) out.push_back(d + "/" + n);
  return out;
}

const Api* load(std::string* why) {
  std::string tried;
  for (const std::string& path : candidates()) {
    // cuBLAS needs cuBLASLt from its own folder; preload it globally when the path has one
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) {
      std::string lt = path.substr(0, slash + 1) + "libcublasLt" + path.substr(path.find(".so", slash));
      dlopen(lt.c_str(), RTLD_NOW | RTLD_GLOBAL);
    }
    void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h == nullptr) {
      tried += (tried.empty() ? "" : ", ") + path;
      continue;
    }
    auto* a = new Api();
    a->path = path;
    a->create = reinterpret_cast<decltype(a->create)>(dlsym(h, "cublasCreate_v2"));
    a->set_stream = reinterpret_cast<decltype(a->set_stream)>(dlsym(h, "cublasSetStream_v2"));
    a->set_math_mode = reinterpret_cast<decltype(a->set_math_mode)>(dlsym(h, "cublasSetMathMode"));
    a->sgemm = reinterpret_cast<decltype(a->sgemm)>(dlsym(h, "cublasSgemmStridedBatched"));
    a->dgemm = reinterpret_cast<decltype(a->dgemm)>(dlsym(h, "cublasDgemmStridedBatched"));
    a->gemm_ex = reinterpret_cast<decltype(a->gemm_ex)>(dlsym(h, "cublasGemmStridedBatchedEx"));
    if (a->create && a->set_stream && a->sgemm && a->dgemm) return a;
    tried += (tried.empty() ? "" : ", ") + path + " (missing symbols)";
    delete a;
  }
  if (why) *why = "cuBLAS not found (tried " + tried + "); set NL_CUBLAS_PATH";
  return nullptr;
}

bool fits_int(long long v) { return v >= 0 && v <= INT_MAX; }

}  // namespace

const Api* api(std::string* where_or_why) {
  static std::string why;
  static const Api* a = load(&why);
  if (where_or_why) *where_or_why = a ? a->path : why;
  return a;
}

void* create_handle(void* stream) {
  const Api* a = api(nullptr);
  if (a == nullptr) return nullptr;
  Handle h = nullptr;
  if (a->create(&h) != 0) return nullptr;
  a->set_stream(h, stream);
  return h;
}

void set_tf32(void* handle, bool on) {
  const Api* a = api(nullptr);
  if (a && handle && a->set_math_mode) a->set_math_mode(handle, on ? kTf32Math : kDefaultMath);
}

// Row-major C[m,n] = op(A) op(B) is column-major C^T[n,m] = op(B)^T op(A)^T: swap the operands.
template <class T, class F>
bool gemm_rowmajor(F fn, void* handle, bool ta, bool tb, long long m, long long n, long long k, T alpha,
                   const T* a, long long lda, long long sa, const T* b, long long ldb, long long sb, T beta, T* c,
                   long long ldc, long long sc, long long batch) {
  if (handle == nullptr || !fits_int(m) || !fits_int(n) || !fits_int(k) || !fits_int(lda) || !fits_int(ldb) ||
      !fits_int(ldc) || !fits_int(batch))
    return false;
  return fn(handle, tb ? kOpT : kOpN, ta ? kOpT : kOpN, int(n), int(m), int(k), &alpha, b, int(ldb), sb, a, int(lda),
            sa, &beta, c, int(ldc), sc, int(batch)) == 0;
}

bool sgemm(void* handle, bool ta, bool tb, long long m, long long n, long long k, float alpha, const float* a,
           long long lda, long long sa, const float* b, long long ldb, long long sb, float beta, float* c,
           long long ldc, long long sc, long long batch) {
  const Api* x = api(nullptr);
  return x && gemm_rowmajor<float>(x->sgemm, handle, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc,
                                   sc, batch);
}

bool dgemm(void* handle, bool ta, bool tb, long long m, long long n, long long k, double alpha, const double* a,
           long long lda, long long sa, const double* b, long long ldb, long long sb, double beta, double* c,
           long long ldc, long long sc, long long batch) {
  const Api* x = api(nullptr);
  return x && gemm_rowmajor<double>(x->dgemm, handle, ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc,
                                    sc, batch);
}

bool gemm_bf16(void* handle, bool ta, bool tb, long long m, long long n, long long k, float alpha, const void* a,
               long long lda, long long sa, const void* b, long long ldb, long long sb, float beta, float* c,
               long long ldc, long long sc, long long batch) {
  const Api* x = api(nullptr);
  constexpr int kR16BF = 14, kR32F = 0, kCompute32F = 68, kAlgoDefault = -1;
  if (x == nullptr || x->gemm_ex == nullptr || handle == nullptr || !fits_int(m) || !fits_int(n) || !fits_int(k) ||
      !fits_int(lda) || !fits_int(ldb) || !fits_int(ldc) || !fits_int(batch))
    return false;
  return x->gemm_ex(handle, tb ? kOpT : kOpN, ta ? kOpT : kOpN, int(n), int(m), int(k), &alpha, b, kR16BF, int(ldb), sb,
                    a, kR16BF, int(lda), sa, &beta, c, kR32F, int(ldc), sc, int(batch), kCompute32F, kAlgoDefault) == 0;
}

}  // namespace nl::cuda::cublas

namespace nl::cuda {
std::string cublas_status() {
  std::string where;
  return cublas::api(&where) ? "cuBLAS: " + where : where;
}
}  // namespace nl::cuda
