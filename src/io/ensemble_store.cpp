#include "io/ensemble_store.h"

#include <fcntl.h>
#include <netcdf.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/crc32.h"
#include "core/error.h"
#include "io/counts_writer.h"

namespace spinesim {

namespace fs = std::filesystem;

CountsTable ReplicateRecord::table(const std::vector<std::string>& names) const {
  CountsTable t;
  t.columns = names;
  t.times = times;
  for (std::size_t k = 0; k < times.size(); ++k) {
    t.time_text.push_back(format_time(times[k]));
    t.rows.emplace_back(values.begin() + static_cast<std::ptrdiff_t>(k * columns),
                        values.begin() + static_cast<std::ptrdiff_t>((k + 1) * columns));
  }
  return t;
}

// ---------------------------------------------------------------------------------
// Journal. A record: magic "SRJ1", CRC-32 of the payload, payload length (u64), then
// the payload: point, replicate, seed, brownian_steps, events, reactions, columns,
// number of times (u64 each), the times and the values (doubles). Native byte order:
// a journal lives only while its ensemble runs, on the machines that run it.

namespace {

constexpr char kMagic[4] = {'S', 'R', 'J', '1'};
constexpr std::size_t kHeaderBytes = 4 + 4 + 8;
constexpr std::size_t kFixedWords = 8;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
T get(const char*& p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

std::string io_message(const fs::path& file, const std::string& what) {
  return file.string() + ": " + what + ": " + std::strerror(errno);
}

/// Reads exactly n bytes at offset; false if the file ends first.
bool read_at(int fd, std::uint64_t offset, char* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::pread(fd, out, n, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<std::size_t>(got);
    offset += static_cast<std::uint64_t>(got);
  }
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

/// The payload of the record at `offset`, or false if it is short or does not check.
bool load_payload(int fd, std::uint64_t offset, std::uint64_t file_bytes, std::string& payload) {
  char header[kHeaderBytes];
  if (file_bytes - offset < kHeaderBytes || !read_at(fd, offset, header, kHeaderBytes)) return false;
  if (std::memcmp(header, kMagic, 4) != 0) return false;
  const char* p = header + 4;
  const auto crc = get<std::uint32_t>(p);
  const auto length = get<std::uint64_t>(p);
  if (length < kFixedWords * 8 || length > file_bytes - offset - kHeaderBytes) return false;
  payload.resize(length);
  if (!read_at(fd, offset + kHeaderBytes, payload.data(), length)) return false;
  if (crc32(payload) != crc) return false;
  const char* q = payload.data() + 6 * 8;
  const auto columns = get<std::uint64_t>(q);
  const auto times = get<std::uint64_t>(q);
  // Guard the multiplication: a CRC-valid record was written by us, but be exact.
  return times <= length / 8 && (columns == 0 || times <= length / 8 / columns + 1) &&
         length == (kFixedWords + times + times * columns) * 8;
}

ReplicateRecord decode(const std::string& payload) {
  const char* p = payload.data();
  ReplicateRecord r;
  r.point = get<std::uint64_t>(p);
  r.replicate = get<std::uint64_t>(p);
  r.seed = get<std::uint64_t>(p);
  r.brownian_steps = get<std::uint64_t>(p);
  r.events = get<std::uint64_t>(p);
  r.reactions = get<std::uint64_t>(p);
  r.columns = get<std::uint64_t>(p);
  const auto n = get<std::uint64_t>(p);
  r.times.resize(n);
  std::memcpy(r.times.data(), p, n * 8);
  p += n * 8;
  r.values.resize(n * r.columns);
  std::memcpy(r.values.data(), p, r.values.size() * 8);
  return r;
}

}  // namespace

std::string encode_journal_record(const ReplicateRecord& r) {
  std::string payload;
  for (std::uint64_t w : {r.point, r.replicate, r.seed, r.brownian_steps, r.events, r.reactions, r.columns,
                          static_cast<std::uint64_t>(r.times.size())})
    put(payload, w);
  payload.append(reinterpret_cast<const char*>(r.times.data()), r.times.size() * 8);
  payload.append(reinterpret_cast<const char*>(r.values.data()), r.values.size() * 8);
  std::string out(kMagic, 4);
  put(out, crc32(payload));
  put(out, static_cast<std::uint64_t>(payload.size()));
  return out + payload;
}

ReplicateJournal::ReplicateJournal(fs::path file) : file_(std::move(file)) {
  fd_ = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) throw IoError(io_message(file_, "cannot open the replicate journal"));
}

ReplicateJournal::~ReplicateJournal() {
  if (fd_ >= 0) ::close(fd_);
}

void ReplicateJournal::append(const ReplicateRecord& record) {
  const std::string bytes = encode_journal_record(record);
  std::lock_guard<std::mutex> lock(mutex_);
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw IoError(io_message(file_, "cannot append a replicate"));
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) throw IoError(io_message(file_, "cannot sync the replicate journal"));
}

JournalIndex scan_journal(const fs::path& file) {
  JournalIndex index;
  Fd fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) throw IoError(io_message(file, "cannot read the replicate journal"));
  const off_t end = ::lseek(fd.fd, 0, SEEK_END);
  if (end < 0) throw IoError(io_message(file, "cannot read the replicate journal"));
  index.file_bytes = static_cast<std::uint64_t>(end);
  std::string payload;
  std::uint64_t at = 0;
  while (load_payload(fd.fd, at, index.file_bytes, payload)) {
    const char* p = payload.data();
    const auto point = get<std::uint64_t>(p);
    const auto replicate = get<std::uint64_t>(p);
    index.offsets.emplace(std::make_pair(point, replicate), at);
    at += kHeaderBytes + payload.size();
  }
  index.valid_bytes = at;
  return index;
}

std::uint64_t trim_journal(const fs::path& file) {
  const JournalIndex index = scan_journal(file);
  if (index.valid_bytes == index.file_bytes) return 0;
  std::error_code ec;
  fs::resize_file(file, index.valid_bytes, ec);
  if (ec) throw IoError(file.string() + ": cannot cut off an unfinished replicate: " + ec.message());
  return index.file_bytes - index.valid_bytes;
}

ReplicateRecord read_journal_record(const fs::path& file, std::uint64_t offset) {
  Fd fd{::open(file.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) throw IoError(io_message(file, "cannot read the replicate journal"));
  const off_t end = ::lseek(fd.fd, 0, SEEK_END);
  std::string payload;
  if (end < 0 || !load_payload(fd.fd, offset, static_cast<std::uint64_t>(end), payload))
    throw IoError(file.string() + ": the replicate record at byte " + std::to_string(offset) +
                  " is damaged (changed since the journal was scanned?)");
  return decode(payload);
}

// ---------------------------------------------------------------------------------
// ensemble.nc

namespace {

void check(int status, const fs::path& file, const std::string& what) {
  if (status != NC_NOERR) throw IoError(file.string() + ": " + what + ": " + nc_strerror(status));
}

/// A NetCDF name for a counts column: NetCDF-4 forbids '/' and control characters
/// anywhere and wants a letter, digit or '_' first. The column's own name stays in
/// the `observable` coordinate and the variable's `column` attribute.
std::string variable_name(const std::string& prefix, const std::string& column) {
  std::string n = prefix + column;
  for (char& c : n)
    if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  const auto first = static_cast<unsigned char>(n.empty() ? ' ' : n[0]);
  if (!(std::isalnum(first) || first == '_' || first >= 0x80)) n = "_" + n;
  while (!n.empty() && n.back() == ' ') n.back() = '_';
  return n;
}

const char* const kSummaryNames[] = {"final:", "peak:", "t_peak_s:", "integral_s:"};
const char* const kStatNames[] = {"mean", "sd",  "sem",    "cv",  "fano", "min",
                                  "q05",  "q25", "median", "q75", "q95",  "max"};

/// The shared time axis: the longest point's times, when every point's times are a
/// prefix of them (a sweep of t_end); else none.
const std::vector<double>* shared_times(const EnsembleLayout& l) {
  const std::vector<double>* longest = &l.times.front();
  for (const auto& t : l.times)
    if (t.size() > longest->size()) longest = &t;
  for (const auto& t : l.times)
    if (!std::equal(t.begin(), t.end(), longest->begin())) return nullptr;
  return longest;
}

void put_text(int nc, int var, const char* name, const std::string& text, const fs::path& file) {
  check(nc_put_att_text(nc, var, name, text.size(), text.c_str()), file, std::string("attribute ") + name);
}

std::string get_text(int nc, int var, const char* name, const fs::path& file) {
  std::size_t len = 0;
  check(nc_inq_attlen(nc, var, name, &len), file, std::string("attribute ") + name);
  std::string s(len, '\0');
  check(nc_get_att_text(nc, var, name, s.data()), file, std::string("attribute ") + name);
  return s;
}

}  // namespace

struct EnsembleFileWriter::Ids {
  int series_time_dim = -1;
  std::vector<int> series, summary[4], stats;
  int n_stat = -1, steps = -1, events = -1, reactions = -1;
};

EnsembleFileWriter::EnsembleFileWriter(const fs::path& file, const EnsembleLayout& layout)
    : file_(file), layout_(layout), ids_(new Ids) {
  const EnsembleLayout& l = layout_;
  check(nc_create(file.c_str(), NC_NETCDF4 | NC_CLOBBER, &nc_), file, "cannot create");
  const auto P = l.points(), R = static_cast<std::size_t>(l.replicates), C = l.columns.size();
  std::size_t T = 0;
  for (const auto& t : l.times) T = std::max(T, t.size());
  const auto* shared = shared_times(l);
  int point_dim, rep_dim, time_dim, obs_dim, field_dim = -1;
  check(nc_def_dim(nc_, "point", P, &point_dim), file, "dimension point");
  check(nc_def_dim(nc_, "replicate", R, &rep_dim), file, "dimension replicate");
  check(nc_def_dim(nc_, shared ? "time_s" : "time", T, &time_dim), file, "dimension time");
  check(nc_def_dim(nc_, "observable", C, &obs_dim), file, "dimension observable");
  if (!l.sweep_fields.empty())
    check(nc_def_dim(nc_, "sweep_field", l.sweep_fields.size(), &field_dim), file, "dimension sweep_field");
  ids_->series_time_dim = time_dim;
  auto def = [&](const std::string& name, nc_type type, std::vector<int> dims, const std::string& units,
                 const std::string& long_name) {
    int id;
    check(nc_def_var(nc_, name.c_str(), type, static_cast<int>(dims.size()), dims.data(), &id), file,
          "variable " + name);
    if (!units.empty()) put_text(nc_, id, "units", units, file);
    if (!long_name.empty()) put_text(nc_, id, "long_name", long_name, file);
    if (type == NC_DOUBLE) {
      const double nan = std::numeric_limits<double>::quiet_NaN();
      check(nc_def_var_fill(nc_, id, 0, &nan), file, "fill value of " + name);
    }
    return id;
  };
  // Global attributes.
  put_text(nc_, NC_GLOBAL, "title", "spinesim ensemble", file);
  put_text(nc_, NC_GLOBAL, "Conventions", "CF-1.8", file);
  put_text(nc_, NC_GLOBAL, "command_line", l.command_line, file);
  put_text(nc_, NC_GLOBAL, "replicate_seed", "replicate_seed(base_seed, r): Philox4x32-10, see README", file);
  const unsigned long long base = l.base_seed;
  check(nc_put_att_ulonglong(nc_, NC_GLOBAL, "base_seed", NC_UINT64, 1, &base), file, "attribute base_seed");
  // Coordinates and descriptions.
  const int point_var = def("point", NC_UINT64, {point_dim}, "", "sweep point");
  const int rep_var = def("replicate", NC_UINT64, {rep_dim}, "", "replicate");
  const int seed_var = def("seed", NC_UINT64, {rep_dim}, "", "seed of the replicate, the same at every point");
  int time_var;
  if (shared)
    time_var = def("time_s", NC_DOUBLE, {time_dim}, "s", "output time");
  else
    time_var = def("time_s", NC_DOUBLE, {point_dim, time_dim}, "s", "output time at each point");
  const int time_count_var = def("time_count", NC_UINT64, {point_dim}, "", "output times recorded at each point");
  const int obs_var = def("observable", NC_STRING, {obs_dim}, "", "counts.csv column");
  const int units_var = def("observable_units", NC_STRING, {obs_dim}, "", "unit of each observable");
  const int int_var = def("observable_is_count", NC_UBYTE, {obs_dim}, "", "1: an exact count; 0: a quantity");
  const int scene_var = def("resolved_scene", NC_STRING, {point_dim}, "", "the scene as run (protobuf text)");
  int field_var = -1, value_text_var = -1;
  std::vector<int> field_value_vars;
  if (field_dim >= 0) {
    field_var = def("sweep_field", NC_STRING, {field_dim}, "", "swept scene field (schema path)");
    value_text_var =
        def("sweep_value_text", NC_STRING, {point_dim, field_dim}, "", "swept value as given on the command line");
    for (const auto& f : l.sweep_fields) {
      const int id = def(variable_name("", f), NC_DOUBLE, {point_dim}, "", "swept scene field " + f);
      put_text(nc_, id, "sweep_field", f, file);
      field_value_vars.push_back(id);
    }
  }
  // CF "coordinates": xarray then attaches the seeds and the swept values.
  std::string point_coords;
  for (const auto& f : l.sweep_fields) point_coords += (point_coords.empty() ? "" : " ") + variable_name("", f);
  const std::string replicate_coords = point_coords.empty() ? "seed" : "seed " + point_coords;
  // Per replicate: the time series, compressed (counts change rarely between output
  // times), chunked by blocks of replicates of ~64 KiB.
  const std::size_t chunk_r =
      std::clamp<std::size_t>(65536 / (8 * std::max<std::size_t>(T, 1)), 1, std::max<std::size_t>(R, 1));
  for (std::size_t c = 0; c < C; ++c) {
    const int id = def(variable_name("", l.columns[c]), NC_DOUBLE, {point_dim, rep_dim, time_dim}, l.units[c],
                       l.columns[c] + " of each replicate at each output time");
    put_text(nc_, id, "column", l.columns[c], file);
    put_text(nc_, id, "coordinates", replicate_coords, file);
    const std::size_t chunks[3] = {1, chunk_r, std::max<std::size_t>(T, 1)};
    check(nc_def_var_chunking(nc_, id, NC_CHUNKED, chunks), file, "chunking of " + l.columns[c]);
    check(nc_def_var_deflate(nc_, id, 1, 1, 1), file, "compression of " + l.columns[c]);
    ids_->series.push_back(id);
  }
  // Per replicate: summary observables and cost.
  const std::size_t chunk_s[2] = {1, std::min<std::size_t>(std::max<std::size_t>(R, 1), 8192)};
  const char* const summary_long[] = {"value at the last output time", "maximum over the output times",
                                      "first output time of the maximum", "time integral (trapezoid rule)"};
  for (std::size_t c = 0; c < C; ++c)
    for (int s = 0; s < 4; ++s) {
      const std::string unit = s == 2 ? "s" : s == 3 ? l.units[c] + " s" : l.units[c];
      const int id = def(variable_name(kSummaryNames[s], l.columns[c]), NC_DOUBLE, {point_dim, rep_dim}, unit,
                         l.columns[c] + ": " + summary_long[s]);
      put_text(nc_, id, "column", l.columns[c], file);
      put_text(nc_, id, "coordinates", replicate_coords, file);
      check(nc_def_var_chunking(nc_, id, NC_CHUNKED, chunk_s), file, "chunking");
      ids_->summary[s].push_back(id);
    }
  ids_->steps = def("brownian_steps", NC_UINT64, {point_dim, rep_dim}, "", "Brownian steps taken by the replicate");
  ids_->events = def("events", NC_UINT64, {point_dim, rep_dim}, "", "scheduler events of the replicate");
  ids_->reactions = def("reactions", NC_UINT64, {point_dim, rep_dim}, "", "reactions of the replicate");
  for (int id : {ids_->steps, ids_->events, ids_->reactions}) {
    put_text(nc_, id, "coordinates", replicate_coords, file);
    check(nc_def_var_chunking(nc_, id, NC_CHUNKED, chunk_s), file, "chunking");
  }
  // Per point: statistics over replicates (docs/outputs.md: stats.csv).
  ids_->n_stat = def("stats_n", NC_UINT64, {point_dim, time_dim, obs_dim}, "", "replicates in the statistics");
  for (const char* s : kStatNames) {
    const std::string name = s;
    const std::string unit = name == "cv" ? "1" : "as observable_units";
    ids_->stats.push_back(def("stats_" + name, NC_DOUBLE, {point_dim, time_dim, obs_dim}, unit,
                              name + " over replicates of each observable at each output time"));
    if (!point_coords.empty()) put_text(nc_, ids_->stats.back(), "coordinates", point_coords, file);
  }
  check(nc_enddef(nc_), file, "cannot define the layout");

  // Everything but the replicates and statistics.
  for (std::size_t p = 0; p < P; ++p) {
    const std::size_t at[1] = {p};
    const unsigned long long v = p, n = l.times[p].size();
    check(nc_put_var1_ulonglong(nc_, point_var, at, &v), file, "point");
    check(nc_put_var1_ulonglong(nc_, time_count_var, at, &n), file, "time_count");
    const char* scene = l.resolved_scenes[p].c_str();
    check(nc_put_var1_string(nc_, scene_var, at, &scene), file, "resolved_scene");
    if (!shared) {
      const std::size_t start[2] = {p, 0}, count[2] = {1, l.times[p].size()};
      check(nc_put_vara_double(nc_, time_var, start, count, l.times[p].data()), file, "time_s");
    }
    for (std::size_t a = 0; a < l.sweep_fields.size(); ++a) {
      const std::size_t at2[2] = {p, a};
      const char* text = l.sweep_values[p][a].c_str();
      check(nc_put_var1_string(nc_, value_text_var, at2, &text), file, "sweep_value_text");
      const double value = std::strtod(text, nullptr);
      check(nc_put_var1_double(nc_, field_value_vars[a], at, &value), file, l.sweep_fields[a]);
    }
  }
  if (shared) {
    const std::size_t start[1] = {0}, count[1] = {shared->size()};
    check(nc_put_vara_double(nc_, time_var, start, count, shared->data()), file, "time_s");
  }
  for (std::size_t a = 0; a < l.sweep_fields.size(); ++a) {
    const std::size_t at[1] = {a};
    const char* f = l.sweep_fields[a].c_str();
    check(nc_put_var1_string(nc_, field_var, at, &f), file, "sweep_field");
  }
  for (std::size_t r = 0; r < R; ++r) {
    const std::size_t at[1] = {r};
    const unsigned long long v = r, s = replicate_seed(l.base_seed, r);
    check(nc_put_var1_ulonglong(nc_, rep_var, at, &v), file, "replicate");
    check(nc_put_var1_ulonglong(nc_, seed_var, at, &s), file, "seed");
  }
  for (std::size_t c = 0; c < C; ++c) {
    const std::size_t at[1] = {c};
    const char* name = l.columns[c].c_str();
    const char* unit = l.units[c].c_str();
    const unsigned char is_count = l.integer_columns[c] ? 1 : 0;
    check(nc_put_var1_string(nc_, obs_var, at, &name), file, "observable");
    check(nc_put_var1_string(nc_, units_var, at, &unit), file, "observable_units");
    check(nc_put_var1_uchar(nc_, int_var, at, &is_count), file, "observable_is_count");
  }
}

EnsembleFileWriter::~EnsembleFileWriter() {
  if (nc_ >= 0) nc_close(nc_);
  delete ids_;
}

void EnsembleFileWriter::put_replicate(const ReplicateRecord& rec) {
  const std::size_t C = layout_.columns.size(), T = rec.times.size();
  if (rec.columns != C || rec.point >= layout_.points() || T != layout_.times[rec.point].size())
    throw IoError(file_.string() + ": replicate " + std::to_string(rec.replicate) + " of point " +
                  std::to_string(rec.point) + " does not have the point's columns and output times");
  std::vector<double> series(T);
  for (std::size_t c = 0; c < C; ++c) {
    for (std::size_t k = 0; k < T; ++k) series[k] = rec.values[k * C + c];
    const std::size_t start[3] = {rec.point, rec.replicate, 0}, count[3] = {1, 1, T};
    check(nc_put_vara_double(nc_, ids_->series[c], start, count, series.data()), file_, layout_.columns[c]);
  }
  const std::vector<ColumnSummary> summary = summarize_replicate(rec.table(layout_.columns));
  const std::size_t at[2] = {rec.point, rec.replicate};
  for (std::size_t c = 0; c < C; ++c) {
    const ColumnSummary& s = summary[c];
    const double v[4] = {s.final_value, s.peak, s.t_peak_s, s.integral};
    for (int k = 0; k < 4; ++k) check(nc_put_var1_double(nc_, ids_->summary[k][c], at, &v[k]), file_, "summary");
  }
  const unsigned long long cost[3] = {rec.brownian_steps, rec.events, rec.reactions};
  const int cost_ids[3] = {ids_->steps, ids_->events, ids_->reactions};
  for (int k = 0; k < 3; ++k) check(nc_put_var1_ulonglong(nc_, cost_ids[k], at, &cost[k]), file_, "cost");
}

void EnsembleFileWriter::put_stats(std::uint64_t point, const EnsembleStats& stats) {
  const std::size_t T = stats.times().size(), C = stats.columns().size();
  if (T == 0 || C == 0) return;
  std::vector<unsigned long long> n(T * C);
  std::vector<std::vector<double>> values(std::size(kStatNames), std::vector<double>(T * C));
  for (std::size_t t = 0; t < T; ++t)
    for (std::size_t c = 0; c < C; ++c) {
      const RunningStats& s = stats.at(t, c);
      n[t * C + c] = s.n();
      const double v[] = {s.mean(),      s.sd(),        s.sem(),       s.cv(),        s.fano(),      s.min(),
                          s.quantile(0), s.quantile(1), s.quantile(2), s.quantile(3), s.quantile(4), s.max()};
      for (std::size_t k = 0; k < std::size(kStatNames); ++k) values[k][t * C + c] = v[k];
    }
  const std::size_t start[3] = {point, 0, 0}, count[3] = {1, T, C};
  check(nc_put_vara_ulonglong(nc_, ids_->n_stat, start, count, n.data()), file_, "stats_n");
  for (std::size_t k = 0; k < std::size(kStatNames); ++k)
    check(nc_put_vara_double(nc_, ids_->stats[k], start, count, values[k].data()), file_, "statistics");
}

void EnsembleFileWriter::close() {
  if (nc_ < 0) return;
  const int nc = nc_;
  nc_ = -1;
  check(nc_close(nc), file_, "cannot finish");
}

EnsembleFileReader::EnsembleFileReader(const fs::path& file) : file_(file) {
  check(nc_open(file.c_str(), NC_NOWRITE, &nc_), file, "cannot open as an ensemble file (NetCDF-4)");
  EnsembleLayout& l = layout_;
  auto dim = [&](const char* name) {
    int id;
    std::size_t n;
    check(nc_inq_dimid(nc_, name, &id), file, std::string("no dimension ") + name + " (not a spinesim ensemble?)");
    check(nc_inq_dimlen(nc_, id, &n), file, name);
    return n;
  };
  auto var = [&](const std::string& name) {
    int id;
    check(nc_inq_varid(nc_, name.c_str(), &id), file, "no variable " + name + " (not a spinesim ensemble?)");
    return id;
  };
  auto strings = [&](const std::string& name, std::size_t n) {
    std::vector<char*> raw(n);
    std::vector<std::string> out;
    if (n == 0) return out;
    const int id = var(name);
    int ndims;
    check(nc_inq_varndims(nc_, id, &ndims), file, name);
    std::vector<std::size_t> start(static_cast<std::size_t>(ndims), 0), count(static_cast<std::size_t>(ndims), 1);
    count[0] = ndims == 1 ? n : dim("point");
    if (ndims == 2) count[1] = n / count[0];
    check(nc_get_vara_string(nc_, id, start.data(), count.data(), raw.data()), file, name);
    for (char* s : raw) out.emplace_back(s ? s : "");
    nc_free_string(n, raw.data());
    return out;
  };
  const std::size_t P = dim("point"), C = dim("observable");
  l.replicates = dim("replicate");
  unsigned long long base = 0;
  check(nc_get_att_ulonglong(nc_, NC_GLOBAL, "base_seed", &base), file, "attribute base_seed");
  l.base_seed = base;
  l.command_line = get_text(nc_, NC_GLOBAL, "command_line", file);
  l.columns = strings("observable", C);
  l.units = strings("observable_units", C);
  std::vector<unsigned char> is_count(C);
  if (C > 0) check(nc_get_var_uchar(nc_, var("observable_is_count"), is_count.data()), file, "observable_is_count");
  for (auto b : is_count) l.integer_columns.push_back(b != 0);
  l.resolved_scenes = strings("resolved_scene", P);
  int field_dim;
  if (nc_inq_dimid(nc_, "sweep_field", &field_dim) == NC_NOERR) {
    std::size_t A;
    check(nc_inq_dimlen(nc_, field_dim, &A), file, "sweep_field");
    l.sweep_fields = strings("sweep_field", A);
    const auto flat = strings("sweep_value_text", P * A);
    for (std::size_t p = 0; p < P; ++p) l.sweep_values.emplace_back(flat.begin() + p * A, flat.begin() + (p + 1) * A);
  } else {
    l.sweep_values.assign(P, {});
  }
  std::vector<unsigned long long> counts(P);
  check(nc_get_var_ulonglong(nc_, var("time_count"), counts.data()), file, "time_count");
  const int time_var = var("time_s");
  int time_dims;
  check(nc_inq_varndims(nc_, time_var, &time_dims), file, "time_s");
  for (std::size_t p = 0; p < P; ++p) {
    std::vector<double> t(counts[p]);
    if (!t.empty()) {
      const std::size_t start[2] = {p, 0}, count[2] = {1, t.size()};
      // A shared axis is 1-D (time_s), a per-point one 2-D (point, time).
      check(nc_get_vara_double(nc_, time_var, time_dims == 1 ? start + 1 : start, time_dims == 1 ? count + 1 : count,
                               t.data()),
            file, "time_s");
    }
    l.times.push_back(std::move(t));
  }
}

EnsembleFileReader::~EnsembleFileReader() {
  if (nc_ >= 0) nc_close(nc_);
}

ReplicateRecord EnsembleFileReader::replicate(std::uint64_t point, std::uint64_t replicate) const {
  const EnsembleLayout& l = layout_;
  if (point >= l.points() || replicate >= l.replicates)
    throw IoError(file_.string() + ": no replicate " + std::to_string(replicate) + " at point " +
                  std::to_string(point));
  ReplicateRecord rec;
  rec.point = point;
  rec.replicate = replicate;
  rec.seed = replicate_seed(l.base_seed, replicate);
  rec.columns = l.columns.size();
  rec.times = l.times[point];
  const std::size_t T = rec.times.size(), C = rec.columns;
  rec.values.resize(T * C);
  std::vector<double> series(T);
  for (std::size_t c = 0; c < C && T > 0; ++c) {
    int id;
    check(nc_inq_varid(nc_, variable_name("", l.columns[c]).c_str(), &id), file_, "no variable for " + l.columns[c]);
    const std::size_t start[3] = {point, replicate, 0}, count[3] = {1, 1, T};
    check(nc_get_vara_double(nc_, id, start, count, series.data()), file_, l.columns[c]);
    for (std::size_t k = 0; k < T; ++k) rec.values[k * C + c] = series[k];
  }
  const std::size_t at[2] = {point, replicate};
  unsigned long long cost[3];
  const char* names[3] = {"brownian_steps", "events", "reactions"};
  for (int k = 0; k < 3; ++k) {
    int id;
    check(nc_inq_varid(nc_, names[k], &id), file_, std::string("no variable ") + names[k]);
    check(nc_get_var1_ulonglong(nc_, id, at, &cost[k]), file_, names[k]);
  }
  rec.brownian_steps = cost[0];
  rec.events = cost[1];
  rec.reactions = cost[2];
  return rec;
}

}  // namespace spinesim
