// specjournal: blktap's resize journal (what `vhd-util resize -j` writes and
// `vhd-util revert` reads), written for tests from the format's description
// in vhd/resize_journal.h and nothing else: it includes nothing from vhd/.
// It is the oracle the library's journal writer and reader are tested
// against.
#ifndef VHDSM_TESTS_UTIL_SPEC_JOURNAL_H_
#define VHDSM_TESTS_UTIL_SPEC_JOURNAL_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace specjournal {

enum Type : uint32_t {
  kFooter = 1,
  kFooterCopy = 2,
  kHeader = 3,
  kLocator = 4,
  kBat = 5,
  kBatmapHeader = 6,
  kBatmap = 7,
  kData = 8,
};

struct Entry {
  uint32_t type = kData;
  uint64_t offset = 0;
  std::string bytes;  // a multiple of 512
};

// The metadata entries vhd-util saves for the VHD whose bytes are `file`
// (primary footer at its end): footer, and for a dynamic or differencing
// disk the copy, the header, each used locator, the BAT and, for creator
// "tap" >= 1.2, the batmap header and the batmap.
std::vector<Entry> Metadata(const std::string& file);

// A journal: the 512-byte header, then `metadata`, then `data`. Entry
// padding bytes are filled with `pad` (blktap leaves garbage there; it counts
// in the checksum).
std::string Build(const std::array<uint8_t, 16>& uuid, uint64_t footer_offset,
                  const std::vector<Entry>& metadata,
                  const std::vector<Entry>& data, uint8_t pad = 0x5a);

// The uuid in the footer at the end of `file`.
std::array<uint8_t, 16> FooterUuid(const std::string& file);

// The reference revert: checks every entry's cookie, size and checksum, then
// writes the metadata entries back at their offsets (the batmap only up to
// ceil((virtual size >> 24) / 512) sectors), cuts `file` to the footer
// offset + 512 and writes the data entries. False (file untouched) when the
// journal does not parse.
bool Revert(const std::string& journal, std::string* file);

}  // namespace specjournal

#endif  // VHDSM_TESTS_UTIL_SPEC_JOURNAL_H_
