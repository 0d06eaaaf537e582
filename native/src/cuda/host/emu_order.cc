// The emulator's schedule setting and its check mode (see emu_order.h).
#include "cuda/host/emu_order.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cuda/hd.h"

namespace nl::cuda {

EmuOrder& emu_order() {
  static EmuOrder order;
  return order;
}

std::string parse_emu_order(const std::string& text, EmuOrder& out) {
  if (text == "forward" || text == "reverse" || text == "check") {
    out.kind = text == "forward" ? EmuOrderKind::kForward : text == "reverse" ? EmuOrderKind::kReverse : EmuOrderKind::kCheck;
    out.seed = 0;
    return "";
  }
  if (text.rfind("shuffle:", 0) == 0) {
    const char* digits = text.c_str() + 8;
    char* end = nullptr;
    unsigned long long seed = std::strtoull(digits, &end, 10);
    if (*digits >= '0' && *digits <= '9' && end != digits && *end == '\0') {
      out.kind = EmuOrderKind::kShuffle;
      out.seed = seed;
      return "";
    }
  }
  return "thread order must be forward, reverse, shuffle:<seed> (a non-negative integer) or check, got '" + text + "'";
}

std::string emu_order_name(const EmuOrder& o) {
  switch (o.kind) {
    case EmuOrderKind::kReverse:
      return "reverse";
    case EmuOrderKind::kShuffle:
      return "shuffle:" + std::to_string(o.seed);
    case EmuOrderKind::kCheck:
      return "check";
    default:
      return "forward";
  }
}

namespace {

using Memory = std::vector<std::vector<char>>;

void save(const std::vector<std::pair<char*, size_t>>& bufs, Memory& m) {
  m.resize(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) m[i].assign(bufs[i].first, bufs[i].first + bufs[i].second);
}

void restore(const std::vector<std::pair<char*, size_t>>& bufs, const Memory& m) {
  for (size_t i = 0; i < bufs.size(); ++i) std::memcpy(bufs[i].first, m[i].data(), bufs[i].second);
}

// Whether the 4-byte word at `off` differs between `a` and `b` by more than float atomics'
// reassociation explains: close as float32, or as the float64 it is half of.
bool beyond_rounding(const char* a, const char* b, size_t off, size_t bytes) {
  float fa, fb;
  std::memcpy(&fa, a + off, 4);
  std::memcpy(&fb, b + off, 4);
  if (std::fabs(fa - fb) <= 1e-5f * std::fmax(std::fabs(fa), std::fabs(fb)) + 1e-6f) return false;
  const size_t off8 = off & ~size_t(7);
  if (off8 + 8 > bytes) return true;
  double da, db;
  std::memcpy(&da, a + off8, 8);
  std::memcpy(&db, b + off8, 8);
  return !(std::fabs(da - db) <= 1e-12 * std::fmax(std::fabs(da), std::fabs(db)) + 1e-12);
}

// "" when `now` matches `ref`, or what differs. With atomics, rounding-sized differences pass.
std::string compare(const std::vector<std::pair<char*, size_t>>& bufs, const Memory& ref, bool atomics) {
  for (size_t i = 0; i < bufs.size(); ++i) {
    const char* now = bufs[i].first;
    const char* was = ref[i].data();
    const size_t bytes = bufs[i].second;
    if (std::memcmp(now, was, bytes) == 0) continue;
    size_t first = bytes, differing = 0;
    for (size_t off = 0; off + 4 <= bytes; off += 4) {
      if (std::memcmp(now + off, was + off, 4) == 0) continue;
      if (atomics && !beyond_rounding(was, now, off, bytes)) continue;
      if (first == bytes) first = off;
      ++differing;
    }
    if (differing == 0 && (bytes % 4 == 0 || std::memcmp(now + bytes / 4 * 4, was + bytes / 4 * 4, bytes % 4) == 0)) continue;
    if (first == bytes) first = bytes / 4 * 4;
    float fw = 0, fn = 0;
    if (first + 4 <= bytes) {
      std::memcpy(&fw, was + first, 4);
      std::memcpy(&fn, now + first, 4);
    }
    return std::to_string(differing) + " of the " + std::to_string(bytes / 4) + " words of a " + std::to_string(bytes) +
           "-byte buffer differ, the first at byte " + std::to_string(first) + " (as float32 " + std::to_string(fw) +
           " forward, " + std::to_string(fn) + " here)";
  }
  return "";
}

}  // namespace

namespace {

using Buffers = std::vector<std::pair<char*, size_t>>;

// The live buffer (of `sorted`, by address) that `word`, read as an address, points into; -1 if none.
long find_target(const Buffers& sorted, uint64_t word) {
  size_t lo = 0, hi = sorted.size();
  while (lo < hi) {  // first buffer starting after word
    size_t mid = (lo + hi) / 2;
    if (uint64_t(reinterpret_cast<uintptr_t>(sorted[mid].first)) <= word) lo = mid + 1;
    else hi = mid;
  }
  if (lo == 0) return -1;
  const auto& b = sorted[lo - 1];
  const uint64_t base = uint64_t(reinterpret_cast<uintptr_t>(b.first));
  return word <= base + b.second ? long(lo - 1) : -1;
}

// The buffers a kernel can reach: those its argument struct points into (any 8-byte-aligned
// word that is an address inside a live buffer), and those the reached buffers point into (the
// pointer tables of multi-tensor ops), transitively.
Buffers reachable(const Buffers& live, const void* args, size_t args_bytes) {
  Buffers sorted = live;
  std::sort(sorted.begin(), sorted.end());
  std::vector<char> seen(sorted.size(), 0);
  std::vector<size_t> todo;
  auto scan = [&](const char* p, size_t bytes) {
    for (size_t off = 0; off + 8 <= bytes; off += 8) {
      uint64_t word;
      std::memcpy(&word, p + off, 8);
      long i = word == 0 ? -1 : find_target(sorted, word);
      if (i >= 0 && !seen[size_t(i)]) {
        seen[size_t(i)] = 1;
        todo.push_back(size_t(i));
      }
    }
  };
  scan(static_cast<const char*>(args), args_bytes);
  for (size_t k = 0; k < todo.size(); ++k) scan(sorted[todo[k]].first, sorted[todo[k]].second);
  Buffers out;
  for (size_t i : todo) out.push_back(sorted[i]);
  return out;
}

}  // namespace

std::string emulate_checked(Runtime* rt, const std::string& kernel, const void* args, size_t args_bytes,
                            const std::function<std::string(const EmuOrder&)>& run) {
  Buffers live;
  emu_live_buffers(rt, live);
  const Buffers bufs = reachable(live, args, args_bytes);
  Memory before, forward;
  save(bufs, before);
  const uint64_t atomics0 = emu_atomic_adds();
  std::string err = run(EmuOrder{});
  if (!err.empty()) return err;
  const bool atomics = emu_atomic_adds() != atomics0;
  save(bufs, forward);
  const EmuOrder others[] = {{EmuOrderKind::kReverse, 0}, {EmuOrderKind::kShuffle, 1}, {EmuOrderKind::kShuffle, 2}};
  for (const EmuOrder& o : others) {
    restore(bufs, before);
    err = run(o);
    if (!err.empty()) return err;
    std::string diff = compare(bufs, forward, atomics);
    if (!diff.empty()) {
      restore(bufs, forward);
      return "order-dependent result (a race) in kernel " + kernel + ": run in " + emu_order_name(o) +
             " thread order instead of forward, " + diff + " (NL_CUDA_EMU_ORDER=check)";
    }
  }
  restore(bufs, forward);
  return "";
}

}  // namespace nl::cuda
