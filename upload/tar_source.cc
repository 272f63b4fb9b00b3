#include "upload/tar_source.h"

#include <algorithm>
#include <cstring>

namespace upload {
namespace {

constexpr uint64_t kBlock = 512;
constexpr uint64_t kUstarMaxSize = 077777777777ULL;  // 11 octal digits

uint64_t RoundUp(uint64_t n) { return (n + kBlock - 1) / kBlock * kBlock; }

// Writes `value` as zero-padded octal in width-1 digits plus a NUL.
// Callers keep value below 8^(width-1).
void PutOctal(char* field, size_t width, uint64_t value) {
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
}

// One ustar header block.
std::string UstarHeader(const std::string& name, char type, uint64_t size,
                        int64_t mtime) {
  std::string block(kBlock, '\0');
  char* h = block.data();
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 100));
  PutOctal(h + 100, 8, 0644);   // mode
  PutOctal(h + 108, 8, 0);      // uid
  PutOctal(h + 116, 8, 0);      // gid
  PutOctal(h + 124, 12, size);  // size
  PutOctal(h + 136, 12, static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
  h[156] = type;                     // typeflag
  std::memcpy(h + 257, "ustar", 6);  // magic + NUL
  std::memcpy(h + 263, "00", 2);     // version
  std::memcpy(h + 265, "root", 4);   // uname
  std::memcpy(h + 297, "root", 4);   // gname
  // Checksum: the byte sum with the checksum field taken as 8 spaces, then
  // six octal digits, NUL, space.
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  PutOctal(h + 148, 7, sum);
  h[155] = ' ';
  return block;
}

// A pax record "<len> <key>=<value>\n", where <len> counts the whole record.
std::string PaxRecord(const std::string& key, const std::string& value) {
  size_t body = 1 + key.size() + 1 + value.size() + 1;
  size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + key + "=" + value + "\n";
}

}  // namespace

base::Status TarSource::Open(std::unique_ptr<ByteSource> input, uint64_t size,
                             const TarOptions& options,
                             std::unique_ptr<TarSource>* out) {
  if (options.member_name.empty() || options.member_name.size() > 100) {
    return base::Status::InvalidArgument(
        "tar member name must be 1..100 bytes");
  }
  std::string header;
  if (size > kUstarMaxSize) {
    std::string pax = PaxRecord("size", std::to_string(size));
    header = UstarHeader("PaxHeaders/" + options.member_name.substr(0, 89), 'x',
                         pax.size(), options.mtime);
    pax.resize(RoundUp(pax.size()), '\0');
    header += pax;
    header += UstarHeader(options.member_name, '0', 0, options.mtime);
  } else {
    header = UstarHeader(options.member_name, '0', size, options.mtime);
  }
  out->reset(new TarSource(std::move(input), size, std::move(header)));
  return base::Status::OK();
}

TarSource::TarSource(std::unique_ptr<ByteSource> input, uint64_t size,
                     std::string header)
    : input_(std::move(input)), size_(size), header_(std::move(header)) {}

int64_t TarSource::Size() const {
  return static_cast<int64_t>(header_.size() + RoundUp(size_) + 2 * kBlock);
}

base::Status TarSource::Read(uint8_t* buf, size_t n, size_t* got) {
  *got = 0;
  const uint64_t data_start = header_.size();
  const uint64_t data_end = data_start + size_;
  const uint64_t total = static_cast<uint64_t>(Size());
  while (*got < n && pos_ < total) {
    size_t want = n - *got;
    if (pos_ < data_start) {
      size_t k =
          static_cast<size_t>(std::min<uint64_t>(want, data_start - pos_));
      std::memcpy(buf + *got, header_.data() + pos_, k);
      *got += k;
      pos_ += k;
    } else if (pos_ < data_end) {
      size_t k = static_cast<size_t>(std::min<uint64_t>(want, data_end - pos_));
      size_t r = 0;
      RETURN_IF_ERROR(input_->Read(buf + *got, k, &r));
      if (r == 0) {
        return base::Status::Corruption(
            "tar: the image ended after " + std::to_string(pos_ - data_start) +
            " of " + std::to_string(size_) + " bytes");
      }
      *got += r;
      pos_ += r;
      // Return what the input gave rather than blocking for more.
      break;
    } else {
      // Padding and the two end-of-archive blocks are zeros.
      size_t k = static_cast<size_t>(std::min<uint64_t>(want, total - pos_));
      std::memset(buf + *got, 0, k);
      *got += k;
      pos_ += k;
    }
  }
  return base::Status::OK();
}

}  // namespace upload
