// DeliveryQueue: the in-memory FIFO, the on-disk spool and the delivery
// thread (delivery_queue.h).
//
// Spool file format (one file per envelope, all integers little-endian):
//
//   offset size  field
//        0    4  magic "FAEV"
//        4    4  format version (1)
//        8    8  seq (equals the number in the file name)
//       16    8  rows
//       24    4  destination length D
//       28    4  key length K
//       32    8  payload length P
//       40    4  CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) of
//                bytes 0..39 followed by the body
//       44       body: destination (D bytes), key (K bytes), payload (P)
//
// The file name is the seq zero-padded to 20 digits plus ".env"
// (00000000000000000042.env). A file is written as <name>.tmp, fsync'ed,
// renamed to <name>, and the directory is fsync'ed. A file whose size does
// not match its header, whose magic, version or seq is wrong, or whose CRC
// does not match is renamed to <name>.bad and counted as dropped (its rows
// from the header when the 44-byte header is readable, else 0 rows).
// Delivery is at-least-once: a crash between an acknowledgement and the
// deletion of the spool file delivers that envelope again after a restart
// (Envelope::seq lets a backend recognise it).

#include "libflowacct/sink/delivery_queue.h"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "libflowacct/sink/file_util.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace flowacct::internal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr char kMagic[4] = {'F', 'A', 'E', 'V'};
constexpr uint32_t kFormatVersion = 1;
constexpr size_t kHeaderSize = 44;
constexpr size_t kCrcOffset = 40;
constexpr size_t kSeqDigits = 20;
constexpr std::string_view kEnvSuffix = ".env";
// Sequence numbers are reserved on disk in blocks: one small file write per
// kSeqBlock envelopes.
constexpr const char* kSeqFloorFile = "seq_floor";
constexpr uint64_t kSeqBlock = uint64_t{1} << 16;
constexpr std::string_view kTmpSuffix = ".tmp";
constexpr std::string_view kBadSuffix = ".bad";
constexpr char kLockFileName[] = ".lock";

// ---------------------------------------------------------------------------
// CRC-32, table-driven, one byte at a time.

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int bit = 0; bit < 8; ++bit) {
      c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    table[i] = c;
  }
  return table;
}

constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

// `state` starts at 0xFFFFFFFF; the CRC is the final state xor 0xFFFFFFFF.
uint32_t CrcUpdate(uint32_t state, std::string_view data) {
  for (unsigned char byte : data) {
    state = kCrcTable[(state ^ byte) & 0xFF] ^ (state >> 8);
  }
  return state;
}

uint32_t SpoolCrc(std::string_view header_prefix, std::string_view body) {
  uint32_t state = 0xFFFFFFFFu;
  state = CrcUpdate(state, header_prefix);
  state = CrcUpdate(state, body);
  return state ^ 0xFFFFFFFFu;
}

// ---------------------------------------------------------------------------
// Little-endian fields.

void PutLe(std::string* out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) {
    out->push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
  }
}

uint64_t GetLe(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= uint64_t{static_cast<unsigned char>(in[offset + i])} << (8 * i);
  }
  return value;
}

struct SpoolHeader {
  uint64_t seq = 0;
  uint64_t rows = 0;
  uint64_t destination_len = 0;
  uint64_t key_len = 0;
  uint64_t payload_len = 0;
  uint32_t crc = 0;
  uint64_t FileSize() const {
    return kHeaderSize + destination_len + key_len + payload_len;
  }
};

// Parses the first kHeaderSize bytes of `data`; false if they are missing or
// the magic or version is wrong.
bool ParseHeader(std::string_view data, SpoolHeader* header) {
  if (data.size() < kHeaderSize) return false;
  if (std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) return false;
  if (GetLe(data, 4, 4) != kFormatVersion) return false;
  header->seq = GetLe(data, 8, 8);
  header->rows = GetLe(data, 16, 8);
  header->destination_len = GetLe(data, 24, 4);
  header->key_len = GetLe(data, 28, 4);
  header->payload_len = GetLe(data, 32, 8);
  header->crc = static_cast<uint32_t>(GetLe(data, kCrcOffset, 4));
  return true;
}

bool FileSizeMatches(const SpoolHeader& header, uint64_t size) {
  // Guard against overflow from a garbage payload length.
  if (header.payload_len > size) return false;
  return header.FileSize() == size;
}

std::string EncodeEnvelope(const Envelope& env) {
  std::string out;
  out.reserve(kHeaderSize + env.destination.size() + env.key.size() +
              env.payload.size());
  out.append(kMagic, sizeof(kMagic));
  PutLe(&out, kFormatVersion, 4);
  PutLe(&out, env.seq, 8);
  PutLe(&out, env.rows, 8);
  PutLe(&out, env.destination.size(), 4);
  PutLe(&out, env.key.size(), 4);
  PutLe(&out, env.payload.size(), 8);
  const size_t body_start = out.size() + 4;
  PutLe(&out, 0, 4);  // CRC placeholder
  out += env.destination;
  out += env.key;
  out += env.payload;
  const uint32_t crc = SpoolCrc(std::string_view(out).substr(0, kCrcOffset),
                                std::string_view(out).substr(body_start));
  for (int i = 0; i < 4; ++i) {
    out[kCrcOffset + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
  }
  return out;
}

std::string SpoolFileName(uint64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020" PRIu64, seq);
  return std::string(buf) + std::string(kEnvSuffix);
}

// "00000000000000000042.env" -> 42; false for any other name.
bool ParseSpoolFileName(std::string_view name, uint64_t* seq) {
  if (name.size() != kSeqDigits + kEnvSuffix.size()) return false;
  if (name.substr(kSeqDigits) != kEnvSuffix) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < kSeqDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return false;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      return false;
    }
    value = value * 10 + digit;
  }
  *seq = value;
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.substr(s.size() - suffix.size()) == suffix;
}

std::string ErrnoText(int err) { return std::strerror(err); }

// Reads the whole file at `path`.
Status ReadWholeFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + ErrnoText(errno));
  out->clear();
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return IoError("cannot read " + path + ": " + ErrnoText(err));
    }
    if (n == 0) break;
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return Status::Ok();
}

// Reads at most `limit` bytes from the start of `path`.
Status ReadFilePrefix(const std::string& path, size_t limit, std::string* out,
                      uint64_t* file_size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + ErrnoText(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return IoError("cannot stat " + path + ": " + ErrnoText(err));
  }
  *file_size = static_cast<uint64_t>(st.st_size);
  out->assign(limit, '\0');
  size_t got = 0;
  while (got < limit) {
    ssize_t n = read(fd, out->data() + got, limit - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      return IoError("cannot read " + path + ": " + ErrnoText(err));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out->resize(got);
  close(fd);
  return Status::Ok();
}

Status SyncDir(const std::string& dir) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + dir + ": " + ErrnoText(errno));
  Status s = Status::Ok();
  if (fsync(fd) != 0)
    s = IoError("cannot fsync " + dir + ": " + ErrnoText(errno));
  close(fd);
  return s;
}

// A spooled envelope, in seq order in DeliveryQueueImpl::spool_.
struct SpoolEntry {
  uint64_t seq = 0;
  uint64_t rows = 0;
  uint64_t bytes = 0;  // file size
};

// ---------------------------------------------------------------------------

class DeliveryQueueImpl final : public DeliveryQueue {
 public:
  DeliveryQueueImpl(std::string name, DeliveryOptions options,
                    std::unique_ptr<DeliveryBackend> backend)
      : name_(std::move(name)),
        options_(std::move(options)),
        backend_(std::move(backend)) {}

  ~DeliveryQueueImpl() override {
    (void)Close();
    if (lock_fd_ >= 0) close(lock_fd_);
  }

  // Creates and locks the spool directory, removes temporary files and
  // loads the spooled envelopes. Called once, before Start().
  Status OpenSpool();
  Status Start();

  bool Push(Envelope envelope) override;
  bool WaitIdle(int64_t timeout_ms) override;
  Status Close() override;
  void FillStats(SinkStats* stats) const override;

 private:
  bool spool_enabled() const { return !options_.spool_dir.empty(); }
  std::string SpoolPath(uint64_t seq) const {
    return options_.spool_dir + "/" + SpoolFileName(seq);
  }
  std::string Prefix() const { return name_ + ": "; }

  // True when nothing is pending. REQUIRES: mu_ held.
  bool IdleLocked() const {
    return memory_.empty() && spool_.empty() && !in_flight_memory_;
  }

  // Writes `env` as a spool file (temporary name, fsync, rename; the
  // directory is fsync'ed when `sync_dir`). kResourceExhausted when it would
  // exceed spool_max_bytes. On success adds its size to spool_bytes_ and its
  // rows to spooled_rows_; the caller inserts the entry into spool_.
  // REQUIRES: mu_ held.
  Result<SpoolEntry> WriteSpoolFileLocked(const Envelope& env, bool sync_dir);
  uint64_t ReadSeqFloor() const;
  Status ReserveSeqLocked();

  // Moves every envelope in memory_ to the end of the spool, in order; those
  // that cannot be written are dropped (counted). REQUIRES: mu_ held.
  void MoveMemoryToSpoolLocked();

  // Counts `rows` pending rows as dropped. REQUIRES: mu_ held.
  void DropPendingLocked(uint64_t rows) {
    pending_rows_ -= rows;
    dropped_rows_ += rows;
  }

  // The delivery thread.
  void Run();
  // Delivers `env` (retrying while kUnavailable) until it is delivered or
  // rejected, or stop_ is set. REQUIRES: lock holds mu_ (released while the
  // backend is called).
  void DeliverOne(std::unique_lock<std::mutex>& lock, Envelope env,
                  bool from_spool, SpoolEntry entry);

  const std::string name_;
  const DeliveryOptions options_;
  const std::unique_ptr<DeliveryBackend> backend_;
  int lock_fd_ = -1;  // holds the flock on <spool_dir>/.lock
  std::thread thread_;

  std::mutex close_mu_;  // serializes Close()
  bool closed_ = false;  // guarded by close_mu_
  Status close_status_;  // guarded by close_mu_

  mutable std::mutex mu_;
  std::condition_variable work_cv_;  // delivery thread: work arrived, stop_
  std::condition_variable idle_cv_;  // an envelope left the queue
  // Envelopes in memory, oldest first; all newer than those in spool_.
  std::deque<Envelope> memory_;
  // Spooled envelopes, oldest (lowest seq) first. Only the delivery thread
  // removes or inserts at the front.
  std::deque<SpoolEntry> spool_;
  bool in_flight_memory_ = false;  // the delivery thread holds one from memory_
  uint64_t next_seq_ = 1;
  uint64_t seq_reserved_ = 0;  // numbers below it are reserved on disk
  bool accepting_ = true;
  bool stop_ = false;
  uint64_t delivered_rows_ = 0;
  uint64_t spooled_rows_ = 0;
  uint64_t retries_ = 0;
  uint64_t dropped_rows_ = 0;
  uint64_t rejected_rows_ = 0;
  uint64_t pending_rows_ = 0;
  uint64_t spool_bytes_ = 0;
  bool backend_up_ = true;
  std::string last_error_;
};

Status DeliveryQueueImpl::OpenSpool() {
  const std::string& dir = options_.spool_dir;
  if (Status s = MakeDirs(dir); !s.ok()) {
    return IoError(Prefix() + "spool: " + s.message());
  }
  const std::string lock_path = dir + "/" + kLockFileName;
  lock_fd_ = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (lock_fd_ < 0) {
    return IoError(Prefix() + "spool: cannot open " + lock_path + ": " +
                   ErrnoText(errno));
  }
  if (flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) {
      return IoError(Prefix() + "spool " + dir +
                     " is in use by another delivery queue (" + lock_path +
                     " is locked)");
    }
    return IoError(Prefix() + "spool: cannot lock " + lock_path + ": " +
                   ErrnoText(err));
  }

  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    return IoError(Prefix() + "spool: cannot read " + dir + ": " +
                   ErrnoText(errno));
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = readdir(d)) names.emplace_back(e->d_name);
  const int read_err = errno;
  closedir(d);
  if (read_err != 0) {
    return IoError(Prefix() + "spool: cannot read " + dir + ": " +
                   ErrnoText(read_err));
  }

  uint64_t max_seq = 0;
  std::vector<SpoolEntry> entries;
  for (const std::string& name : names) {
    const std::string path = dir + "/" + name;
    uint64_t seq = 0;
    if (name.starts_with(std::string(".") + kSeqFloorFile + ".")) {
      // A seq_floor rewrite a crash interrupted (file_util's temp name).
      unlink(path.c_str());
      continue;
    }
    if (EndsWith(name, kTmpSuffix)) {
      // Left by a crash before the rename: never acknowledged as spooled.
      if (unlink(path.c_str()) != 0 && errno != ENOENT) {
        return IoError(Prefix() + "spool: cannot remove " + path + ": " +
                       ErrnoText(errno));
      }
      continue;
    }
    if (EndsWith(name, kBadSuffix)) {
      if (ParseSpoolFileName(
              std::string_view(name).substr(0, name.size() - kBadSuffix.size()),
              &seq)) {
        max_seq = std::max(max_seq, seq);
      }
      continue;
    }
    if (!ParseSpoolFileName(name, &seq)) continue;  // .lock, strangers
    max_seq = std::max(max_seq, seq);
    std::string head;
    uint64_t size = 0;
    if (Status s = ReadFilePrefix(path, kHeaderSize, &head, &size); !s.ok()) {
      return IoError(Prefix() + "spool: " + s.message());
    }
    SpoolHeader header;
    const bool readable = ParseHeader(head, &header);
    if (!readable || header.seq != seq || !FileSizeMatches(header, size)) {
      // Unparseable: set aside for the operator, counted as dropped.
      rename(path.c_str(), (path + std::string(kBadSuffix)).c_str());
      dropped_rows_ += readable ? header.rows : 0;
      continue;
    }
    entries.push_back(SpoolEntry{seq, header.rows, size});
  }
  std::sort(
      entries.begin(), entries.end(),
      [](const SpoolEntry& a, const SpoolEntry& b) { return a.seq < b.seq; });
  for (const SpoolEntry& entry : entries) {
    spool_.push_back(entry);
    pending_rows_ += entry.rows;
    spool_bytes_ += entry.bytes;
  }
  // Sequence numbers never repeat for a spool directory, also when a
  // process starts on an empty spool: the last process reserved numbers up
  // to the floor kept in kSeqFloorFile (consumers deduplicate on them).
  next_seq_ = std::max(max_seq + 1, ReadSeqFloor());
  return ReserveSeqLocked();
}

uint64_t DeliveryQueueImpl::ReadSeqFloor() const {
  std::string text;
  uint64_t size = 0;
  const std::string path = options_.spool_dir + "/" + kSeqFloorFile;
  if (!ReadFilePrefix(path, 32, &text, &size).ok()) return 1;
  uint64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v == 0 ? 1 : v;
}

Status DeliveryQueueImpl::ReserveSeqLocked() {
  const uint64_t floor = next_seq_ + kSeqBlock;
  Status s = ReplaceFile(options_.spool_dir + "/" + kSeqFloorFile,
                         std::to_string(floor) + "\n");
  if (!s.ok()) return IoError(Prefix() + "spool: " + s.message());
  seq_reserved_ = floor;
  return Status::Ok();
}

Status DeliveryQueueImpl::Start() {
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    return InternalError(Prefix() +
                         "cannot start the delivery thread: " + e.what());
  }
  return Status::Ok();
}

Result<SpoolEntry> DeliveryQueueImpl::WriteSpoolFileLocked(const Envelope& env,
                                                           bool sync_dir) {
  const uint64_t size = kHeaderSize + env.destination.size() + env.key.size() +
                        env.payload.size();
  if (size > options_.spool_max_bytes ||
      spool_bytes_ > options_.spool_max_bytes - size) {
    return ResourceExhaustedError(Prefix() + "spool full");
  }
  const std::string path = SpoolPath(env.seq);
  const std::string tmp = path + std::string(kTmpSuffix);
  const std::string content = EncodeEnvelope(env);
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + tmp + ": " + ErrnoText(errno));
  Status s = WriteAll(fd, content, tmp);
  if (s.ok() && fsync(fd) != 0) {
    s = IoError("cannot fsync " + tmp + ": " + ErrnoText(errno));
  }
  if (close(fd) != 0 && s.ok()) {
    s = IoError("cannot close " + tmp + ": " + ErrnoText(errno));
  }
  if (s.ok() && rename(tmp.c_str(), path.c_str()) != 0) {
    s = IoError("cannot rename " + tmp + ": " + ErrnoText(errno));
  }
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  if (sync_dir) (void)SyncDir(options_.spool_dir);
  spool_bytes_ += size;
  spooled_rows_ += env.rows;
  return SpoolEntry{env.seq, env.rows, size};
}

void DeliveryQueueImpl::MoveMemoryToSpoolLocked() {
  if (memory_.empty()) return;
  bool wrote = false;
  for (const Envelope& env : memory_) {
    Result<SpoolEntry> entry = WriteSpoolFileLocked(env, /*sync_dir=*/false);
    if (entry.ok()) {
      spool_.push_back(*entry);
      wrote = true;
    } else {
      DropPendingLocked(env.rows);
    }
  }
  memory_.clear();
  if (wrote) (void)SyncDir(options_.spool_dir);
  idle_cv_.notify_all();
}

bool DeliveryQueueImpl::Push(Envelope envelope) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!accepting_) return false;
  if (spool_enabled() && next_seq_ >= seq_reserved_) {
    // Best effort: a failure only risks reusing numbers after a crash.
    (void)ReserveSeqLocked();
  }
  envelope.seq = next_seq_++;
  const uint64_t rows = envelope.rows;
  if (spool_enabled() &&
      (!spool_.empty() || memory_.size() >= options_.memory_envelopes)) {
    // The spool holds the oldest envelopes: when memory overflows, what is
    // in memory goes to the spool first.
    MoveMemoryToSpoolLocked();
    Result<SpoolEntry> entry =
        WriteSpoolFileLocked(envelope, /*sync_dir=*/true);
    if (!entry.ok()) {
      dropped_rows_ += rows;
      return false;
    }
    spool_.push_back(*entry);
  } else if (memory_.size() >= options_.memory_envelopes) {
    dropped_rows_ += rows;
    return false;
  } else {
    memory_.push_back(std::move(envelope));
  }
  pending_rows_ += rows;
  work_cv_.notify_one();
  return true;
}

void DeliveryQueueImpl::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(
        lock, [this] { return stop_ || !spool_.empty() || !memory_.empty(); });
    if (stop_) return;
    if (!spool_.empty()) {
      const SpoolEntry entry = spool_.front();
      const std::string path = SpoolPath(entry.seq);
      lock.unlock();
      // The front entry's file is only removed by this thread: read it
      // without the lock.
      std::string data;
      Status read = ReadWholeFile(path, &data);
      Envelope env;
      SpoolHeader header;
      bool good =
          read.ok() && ParseHeader(data, &header) && header.seq == entry.seq &&
          FileSizeMatches(header, data.size()) &&
          header.crc == SpoolCrc(std::string_view(data).substr(0, kCrcOffset),
                                 std::string_view(data).substr(kHeaderSize));
      if (good) {
        std::string_view body = std::string_view(data).substr(kHeaderSize);
        env.seq = header.seq;
        env.rows = header.rows;
        env.destination = std::string(body.substr(0, header.destination_len));
        body.remove_prefix(header.destination_len);
        env.key = std::string(body.substr(0, header.key_len));
        body.remove_prefix(header.key_len);
        env.payload = std::string(body);
      } else {
        rename(path.c_str(), (path + std::string(kBadSuffix)).c_str());
      }
      lock.lock();
      if (!good) {
        spool_.pop_front();
        spool_bytes_ -= entry.bytes;
        DropPendingLocked(entry.rows);
        idle_cv_.notify_all();
        continue;
      }
      if (stop_) return;  // the file stays for the next start
      DeliverOne(lock, std::move(env), /*from_spool=*/true, entry);
    } else {
      Envelope env = std::move(memory_.front());
      memory_.pop_front();
      in_flight_memory_ = true;
      DeliverOne(lock, std::move(env), /*from_spool=*/false, SpoolEntry{});
    }
  }
}

void DeliveryQueueImpl::DeliverOne(std::unique_lock<std::mutex>& lock,
                                   Envelope env, bool from_spool,
                                   SpoolEntry entry) {
  const int64_t min_ms = std::max<int64_t>(1, options_.retry_min_ms);
  const int64_t max_ms = std::max<int64_t>(min_ms, options_.retry_max_ms);
  int64_t backoff_ms = min_ms;
  while (true) {
    lock.unlock();
    const Status s = backend_->Deliver(env);
    const bool done = s.code() != StatusCode::kUnavailable;
    if (done && from_spool) unlink(SpoolPath(entry.seq).c_str());
    lock.lock();
    if (done) {
      if (s.ok()) {
        delivered_rows_ += env.rows;
        backend_up_ = true;
      } else {
        rejected_rows_ += env.rows;
        last_error_ = "rejected: " + s.ToString();
      }
      if (from_spool) {
        spool_.pop_front();
        spool_bytes_ -= entry.bytes;
      } else {
        in_flight_memory_ = false;
      }
      pending_rows_ -= env.rows;
      idle_cv_.notify_all();
      return;
    }
    ++retries_;
    backend_up_ = false;
    last_error_ = s.ToString();
    if (!stop_ && spool_enabled()) {
      bool need_sync = false;
      if (!from_spool) {
        // The envelope in hand is older than everything spooled.
        Result<SpoolEntry> spooled =
            WriteSpoolFileLocked(env, /*sync_dir=*/false);
        if (spooled.ok()) {
          entry = *spooled;
          spool_.push_front(entry);
          from_spool = true;
          in_flight_memory_ = false;
          need_sync = true;
        }
        // Else (spool full or failing) it stays in hand and is retried
        // before the spool.
      }
      if (!memory_.empty()) {
        MoveMemoryToSpoolLocked();  // fsyncs the directory
      } else if (need_sync) {
        (void)SyncDir(options_.spool_dir);
      }
    }
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(backoff_ms);
    work_cv_.wait_until(lock, deadline, [this] { return stop_; });
    if (stop_) {
      if (!from_spool) {
        memory_.push_front(std::move(env));
        in_flight_memory_ = false;
      }
      return;
    }
    backoff_ms = std::min(max_ms, backoff_ms * 2);
  }
}

bool DeliveryQueueImpl::WaitIdle(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  const Clock::time_point deadline =
      Clock::now() +
      std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms));
  return idle_cv_.wait_until(lock, deadline, [this] { return IdleLocked(); });
}

Status DeliveryQueueImpl::Close() {
  std::lock_guard<std::mutex> close_lock(close_mu_);
  if (closed_) return close_status_;
  {
    std::unique_lock<std::mutex> lock(mu_);
    accepting_ = false;
    const Clock::time_point deadline =
        Clock::now() + std::chrono::milliseconds(
                           std::max<int64_t>(0, options_.close_timeout_ms));
    idle_cv_.wait_until(lock, deadline, [this] { return IdleLocked(); });
    stop_ = true;
    work_cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();

  uint64_t left_rows = 0;
  uint64_t left_envelopes = 0;
  uint64_t dropped_rows = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (spool_enabled()) {
      MoveMemoryToSpoolLocked();
    } else {
      for (const Envelope& env : memory_) DropPendingLocked(env.rows);
      memory_.clear();
      idle_cv_.notify_all();
    }
    left_rows = pending_rows_;
    left_envelopes = spool_.size();
    dropped_rows = dropped_rows_;
  }
  backend_->Shutdown();
  if (lock_fd_ >= 0) {
    close(lock_fd_);  // releases the flock
    lock_fd_ = -1;
  }

  std::string left;
  if (left_envelopes > 0) {
    left = std::to_string(left_rows) + " rows (" +
           std::to_string(left_envelopes) + " envelopes) left in the spool " +
           options_.spool_dir + ", delivered at the next start";
  }
  if (dropped_rows > 0) {
    close_status_ = ResourceExhaustedError(
        Prefix() + std::to_string(dropped_rows) + " rows dropped" +
        (left.empty() ? "" : "; " + left));
  } else if (!left.empty()) {
    close_status_ = UnavailableError(Prefix() + left);
  } else {
    close_status_ = Status::Ok();
  }
  closed_ = true;
  return close_status_;
}

void DeliveryQueueImpl::FillStats(SinkStats* stats) const {
  std::lock_guard<std::mutex> lock(mu_);
  stats->delivered_rows = delivered_rows_;
  stats->spooled_rows = spooled_rows_;
  stats->retries = retries_;
  stats->dropped_rows = dropped_rows_;
  stats->rejected_rows = rejected_rows_;
  stats->pending_rows = pending_rows_;
  stats->spool_bytes = spool_bytes_;
  stats->backend_up = backend_up_;
  stats->last_error = last_error_;
}

}  // namespace

Result<std::unique_ptr<DeliveryQueue>> DeliveryQueue::Create(
    std::string name, DeliveryOptions options,
    std::unique_ptr<DeliveryBackend> backend) {
  if (backend == nullptr) {
    return InvalidArgumentError(name + ": no delivery backend");
  }
  if (options.memory_envelopes == 0) {
    return InvalidArgumentError(name + ": memory_envelopes must be positive");
  }
  const bool with_spool = !options.spool_dir.empty();
  auto queue = std::make_unique<DeliveryQueueImpl>(
      std::move(name), std::move(options), std::move(backend));
  if (with_spool) {
    if (Status s = queue->OpenSpool(); !s.ok()) return s;
  }
  if (Status s = queue->Start(); !s.ok()) return s;
  return std::unique_ptr<DeliveryQueue>(std::move(queue));
}

}  // namespace flowacct::internal
