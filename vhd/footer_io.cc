#include "vhd/footer_io.h"

#include <cstring>
#include <string>

namespace vhd {

bool FooterChecksumAcceptable(const Footer& f, bool* legacy) {
  *legacy = false;
  if (!f.CookieOk()) return false;
  if (f.ChecksumOk()) return true;
  // Old blktap (tap 0.1 / 1.1) computed the checksum before setting hidden.
  if (f.hidden != 0 && f.CreatorIsTap()) {
    Footer g = f;
    g.hidden = 0;
    if (g.ChecksumOk()) {
      *legacy = true;
      return true;
    }
  }
  return false;
}

namespace {

std::string Describe(const Footer& f) {
  if (std::memcmp(f.cookie.data(), "v_poison", 8) == 0) return "poisoned";
  if (!f.CookieOk()) return "no 'conectix' cookie";
  return "bad checksum";
}

}  // namespace

base::Status ReadFooter(base::File* file, FooterInfo* info) {
  *info = FooterInfo();
  uint64_t size = 0;
  RETURN_IF_ERROR(file->Size(&size));
  info->file_size = size;
  if (size < kFooterSize - 1) {
    return base::Status::Corruption(file->path() + ": file of " +
                                    std::to_string(size) +
                                    " bytes is too small to be a VHD");
  }

  uint8_t buf[kFooterSize];
  std::string problems;
  bool legacy = false;
  bool have_eof = false;

  if (size >= kFooterSize) {
    RETURN_IF_ERROR(file->Read(size - kFooterSize, kFooterSize, buf));
    Footer f = Footer::Decode(buf);
    if (FooterChecksumAcceptable(f, &legacy)) {
      have_eof = true;
      info->footer = f;
      info->offset = size - kFooterSize;
    } else {
      problems = "footer at end of file: " + Describe(f);
    }
  }
  if (!have_eof) {
    // A short footer: the last 511 bytes, zero-padded.
    std::memset(buf, 0, sizeof(buf));
    RETURN_IF_ERROR(file->Read(size - (kFooterSize - 1), kFooterSize - 1, buf));
    Footer f = Footer::Decode(buf);
    if (FooterChecksumAcceptable(f, &legacy)) {
      have_eof = true;
      info->footer = f;
      info->offset = size - (kFooterSize - 1);
      info->length = kFooterSize - 1;
      problems.clear();
    } else if (problems.empty()) {
      problems = "footer at end of file: " + Describe(f);
    }
  }
  info->legacy_checksum = have_eof && legacy;

  // The copy at 0 exists only for dynamic/differencing disks.
  if (size >= kFooterSize && (!have_eof || info->footer.IsDynamicOrDiff())) {
    RETURN_IF_ERROR(file->Read(0, kFooterSize, buf));
    Footer b = Footer::Decode(buf);
    bool blegacy = false;
    info->backup = b;
    info->backup_valid =
        FooterChecksumAcceptable(b, &blegacy) && b.IsDynamicOrDiff();
    if (have_eof) {
      uint8_t eof[kFooterSize];
      info->footer.Encode(eof);
      info->backup_identical = std::memcmp(eof, buf, kFooterSize) == 0;
    } else if (info->backup_valid) {
      info->footer = b;
      info->offset = 0;
      info->from_backup = true;
      info->legacy_checksum = blegacy;
      return base::Status::OK();
    } else {
      problems += "; copy at offset 0: " +
                  (b.CookieOk() && !b.IsDynamicOrDiff()
                       ? std::string("not a dynamic disk footer")
                       : Describe(b));
    }
  }
  if (!have_eof) {
    if (problems.find("poisoned") != std::string::npos) {
      return base::Status::Corruption(
          file->path() +
          ": disabled by an interrupted resize; revert it with its journal");
    }
    return base::Status::Corruption(file->path() + ": no valid VHD footer (" +
                                    problems + ")");
  }
  return base::Status::OK();
}

base::Status WriteFooterAt(base::File* file, const Footer& footer,
                           uint64_t offset) {
  uint8_t buf[kFooterSize];
  footer.Encode(buf);
  return file->Write(offset, buf, kFooterSize);
}

}  // namespace vhd
