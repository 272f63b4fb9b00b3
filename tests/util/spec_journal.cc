#include "tests/util/spec_journal.h"

#include <algorithm>

namespace specjournal {

namespace {

uint64_t Get(const std::string& s, uint64_t off, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) {
    v = (v << 8) | static_cast<uint8_t>(s.at(off + i));
  }
  return v;
}

void Put(std::string* s, uint64_t off, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    (*s)[off + i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
}

uint64_t Sectors(uint64_t bytes) {
  return std::max<uint64_t>(1, (bytes + 511) / 512) * 512;
}

uint32_t Sum(const std::string& s) {
  uint32_t v = 0;
  for (char c : s) v += static_cast<uint8_t>(c);
  return v;
}

constexpr uint64_t kEntryCookie = 0xaaaa12344321aaaaull;

}  // namespace

std::array<uint8_t, 16> FooterUuid(const std::string& file) {
  std::array<uint8_t, 16> u{};
  for (int i = 0; i < 16; ++i) u[i] = file.at(file.size() - 512 + 68 + i);
  return u;
}

std::vector<Entry> Metadata(const std::string& file) {
  std::vector<Entry> v;
  const uint64_t foot = file.size() - 512;
  v.push_back({kFooter, foot, file.substr(foot, 512)});
  uint32_t type = Get(file, foot + 60, 4);
  if (type != 3 && type != 4) return v;
  v.push_back({kFooterCopy, 0, file.substr(0, 512)});
  uint64_t hdr = Get(file, foot + 16, 8);
  v.push_back({kHeader, hdr, file.substr(hdr, 1024)});
  for (int i = 0; i < 8; ++i) {
    uint64_t e = hdr + 576 + 24 * i;
    if (Get(file, e, 4) == 0) continue;
    uint64_t space = Get(file, e + 4, 4);
    uint64_t bytes = space < 512 ? space * 512 : space;
    uint64_t at = Get(file, e + 16, 8);
    v.push_back({kLocator, at, file.substr(at, bytes)});
  }
  uint64_t table = Get(file, hdr + 16, 8);
  uint64_t bat = Sectors(Get(file, hdr + 28, 4) * 4);
  v.push_back({kBat, table, file.substr(table, bat)});
  bool tap = file.compare(foot + 28, 3, "tap") == 0;
  if (tap && Get(file, foot + 32, 4) >= 0x00010002) {
    uint64_t mh = table + bat;
    v.push_back({kBatmapHeader, mh, file.substr(mh, 512)});
    uint64_t at = Get(file, mh + 8, 8);
    uint64_t n = Get(file, mh + 16, 4) * 512;
    v.push_back({kBatmap, at, file.substr(at, n)});
  }
  return v;
}

std::string Build(const std::array<uint8_t, 16>& uuid, uint64_t footer_offset,
                  const std::vector<Entry>& metadata,
                  const std::vector<Entry>& data, uint8_t pad) {
  std::string j(512, '\0');
  j.replace(0, 8, "vjournal");
  for (int i = 0; i < 16; ++i) j[8 + i] = static_cast<char>(uuid[i]);
  Put(&j, 24, footer_offset, 8);
  Put(&j, 32, data.size(), 4);
  Put(&j, 36, metadata.size(), 4);
  Put(&j, 48, metadata.empty() ? 0 : 512, 8);
  auto add = [&](const Entry& e) {
    std::string h(32, static_cast<char>(pad));
    Put(&h, 0, kEntryCookie, 8);
    Put(&h, 8, e.type, 4);
    Put(&h, 12, e.bytes.size(), 4);
    Put(&h, 16, e.offset, 8);
    Put(&h, 24, 0, 4);
    Put(&h, 24, ~(Sum(h) + Sum(e.bytes)), 4);
    j += h + e.bytes;
  };
  for (const Entry& e : metadata) add(e);
  Put(&j, 40, j.size(), 8);
  for (const Entry& e : data) add(e);
  // The end of the journal: little-endian.
  uint64_t eof = j.size();
  for (int i = 0; i < 8; ++i) j[56 + i] = static_cast<char>(eof >> (8 * i));
  return j;
}

bool Revert(const std::string& journal, std::string* file) {
  if (journal.size() < 512 || journal.compare(0, 8, "vjournal") != 0) {
    return false;
  }
  const uint64_t foot = Get(journal, 24, 8);
  const uint64_t count = Get(journal, 32, 4) + Get(journal, 36, 4);
  std::vector<Entry> entries;
  uint64_t pos = 512;
  for (uint64_t i = 0; i < count; ++i) {
    if (pos + 32 > journal.size()) return false;
    std::string h = journal.substr(pos, 32);
    Entry e;
    e.type = Get(h, 8, 4);
    uint64_t size = Get(h, 12, 4);
    e.offset = Get(h, 16, 8);
    uint32_t sum = Get(h, 24, 4);
    if (Get(h, 0, 8) != kEntryCookie || size == 0 || size % 512 != 0 ||
        pos + 32 + size > journal.size()) {
      return false;
    }
    e.bytes = journal.substr(pos + 32, size);
    Put(&h, 24, 0, 4);
    if (static_cast<uint32_t>(~(Sum(h) + Sum(e.bytes))) != sum) return false;
    entries.push_back(e);
    pos += 32 + size;
  }
  std::string f = *file;
  auto write = [&](uint64_t at, const std::string& b) {
    if (f.size() < at + b.size()) f.resize(at + b.size(), '\0');
    f.replace(at, b.size(), b);
  };
  uint64_t virt = Get(entries.at(0).bytes, 48, 8);
  for (const Entry& e : entries) {
    if (e.type == kData) continue;
    if (e.type == kBatmap) {
      write(e.offset, e.bytes.substr(0, Sectors(virt >> 24)));
    } else {
      write(e.offset, e.bytes);
    }
  }
  f.resize(foot + 512, '\0');
  for (const Entry& e : entries) {
    if (e.type == kData) write(e.offset, e.bytes);
  }
  f.resize(foot + 512);
  *file = f;
  return true;
}

}  // namespace specjournal
