// Tests of vhd/resize_journal.h against blktap's journal format as described
// (tests/util/spec_journal: an independent writer and reference revert):
// vhd-util's journals reverted at each of its resize's failure points, ours
// reverted by the reference, foreign files refused and kept, and
// vhdsm-util revert's lines and exit codes as vhd-util's.
#include "vhd/resize_journal.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "base/fault_env.h"
#include "tests/util/spec_journal.h"
#include "tests/util/spec_vhd.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/create.h"
#include "vhd/resize.h"

namespace vhd {
namespace {

constexpr uint64_t kMiB = 1 << 20;
using specjournal::Entry;

// The failure points of vhd-util's resize (its TEST_FAIL_AT names).
enum class Point { kBegin, kDataMoved, kMetadataMoved, kEnd };
const char* Name(Point p) {
  switch (p) {
    case Point::kBegin:
      return "RESIZE_BEGIN";
    case Point::kDataMoved:
      return "RESIZE_DATA_MOVED";
    case Point::kMetadataMoved:
      return "RESIZE_METADATA_MOVED";
    case Point::kEnd:
      return "RESIZE_END";
  }
  return "";
}

void Poison(std::string* f, uint64_t off) {
  f->replace(off, 8, "v_poison");
  specvhd::ResealFooter(f, off);
}

void Overwrite(std::string* f, uint64_t off, const std::string& b) {
  if (f->size() < off + b.size()) f->resize(off + b.size(), '\0');
  f->replace(off, b.size(), b);
}

// A tapdisk-made disk (creator "tap" 1.3, batmap) with allocated blocks; a
// differencing one also has two parent locators.
specvhd::Image TapDisk(bool differencing, uint64_t seed) {
  specvhd::Disk d;
  d.type =
      differencing ? specvhd::Type::kDifferencing : specvhd::Type::kDynamic;
  d.virtual_size = 20 * kMiB;
  d.creator = {'t', 'a', 'p', '\0'};
  d.creator_version = 0x00010003;
  d.creator_os = 0;
  d.batmap = true;
  d.align_data_4k = false;
  d.seed = seed;
  d.blocks.resize(10);
  d.blocks[1].kind = specvhd::Block::Kind::kFull;
  d.blocks[4] = specvhd::PartialBlock(4096, {{0, 100}, {2000, 8}}, true);
  d.blocks[7].kind = specvhd::Block::Kind::kFull;
  if (differencing) {
    d.parent_uuid = specvhd::RandomUuid(seed + 100);
    d.parent_name = "parent.vhd";
    specvhd::Locator w2ku, macx;
    w2ku.code = specvhd::kW2ku;
    w2ku.text = ".\\parent.vhd";
    macx.code = specvhd::kMacX;
    macx.text = "file://./parent.vhd";
    d.locators = {w2ku, macx};
  }
  return specvhd::Build(d, differencing ? std::string(20 * kMiB, 'p') : "");
}

// The VHD and journal as vhd-util leaves them when its resize stops at
// `point`, written from what the format says each step does: the journal
// is created and the footers poisoned; then the first block moves to the end
// of the file (its bitmap and data journaled, its old place zeroed); then
// the locators shift; then the new BAT, header and footer are written.
void Interrupt(const specvhd::Image& img, Point point, std::string* vhd,
               std::string* journal) {
  const std::string& orig = img.file;
  const uint64_t foot = img.layout.footer_offset;
  std::vector<Entry> meta = specjournal::Metadata(orig), data;
  std::string f = orig;
  Poison(&f, 0);
  Poison(&f, foot);
  uint64_t first = ~uint64_t{0};
  for (uint64_t o : img.layout.block_offsets) {
    if (o != specvhd::kNoOffset) first = std::min(first, o);
  }
  const uint64_t bm = img.layout.bitmap_bytes, bs = 2 * kMiB;
  const uint64_t moved_to = foot + 4096 - bm;  // data 4 KiB-aligned
  if (point != Point::kBegin) {
    data.push_back({specjournal::kData, first, orig.substr(first, bm)});
    data.push_back(
        {specjournal::kData, first + bm, orig.substr(first + bm, bs)});
    Overwrite(&f, moved_to, orig.substr(first, bm + bs));
    Overwrite(&f, first, std::string(bm + bs, '\0'));
  }
  if (point == Point::kMetadataMoved || point == Point::kEnd) {
    for (uint64_t o : img.layout.locator_offsets) {
      Overwrite(&f, o + 1024, orig.substr(o, 512));
    }
  }
  if (point == Point::kEnd) {
    // Every byte the grown metadata takes was journaled: the old BAT,
    // batmap and locators, and the moved block's place.
    for (const Entry& e : meta) {
      if (e.type == specjournal::kBat || e.type == specjournal::kBatmap ||
          e.type == specjournal::kBatmapHeader ||
          e.type == specjournal::kLocator) {
        Overwrite(&f, e.offset, std::string(e.bytes.size(), '\xff'));
      }
    }
    Overwrite(&f, first, std::string(bm + bs, '\xee'));
    std::string h = f.substr(img.layout.header_offset, 1024);
    specvhd::PutBE32(&h, 28, 4096);
    Overwrite(&f, img.layout.header_offset, h);
    specvhd::ResealHeader(&f, img.layout.header_offset);
    std::string footer = f.substr(0, 512);
    specvhd::PutBE64(&footer, 48, 8192 * kMiB);
    const uint64_t end = moved_to + bm + bs;
    f.resize(end);
    Overwrite(&f, end, footer);
    specvhd::ResealFooter(&f, end);
    Overwrite(&f, 0, f.substr(end, 512));
  }
  *vhd = f;
  *journal =
      specjournal::Build(specjournal::FooterUuid(orig), foot, meta, data);
}

class ResizeJournalTest : public ::testing::Test {
 protected:
  std::string P(const std::string& n) { return dir_.Join(n); }
  testutil::RunResult Util(std::vector<std::string> args) {
    args.insert(args.begin(), testutil::Built("bin/vhdsm-util"));
    return testutil::Run(args);
  }
  testutil::TempDir dir_;
};

TEST_F(ResizeJournalTest, RevertsVhdUtilJournalsAtEachFailurePoint) {
  for (bool diff : {false, true}) {
    specvhd::Image img = TapDisk(diff, diff ? 7 : 3);
    for (Point pt : {Point::kBegin, Point::kDataMoved, Point::kMetadataMoved,
                     Point::kEnd}) {
      SCOPED_TRACE(std::string(Name(pt)) + (diff ? " differencing" : ""));
      std::string vhd, journal;
      Interrupt(img, pt, &vhd, &journal);
      ASSERT_NE(vhd, img.file);
      // The reference revert agrees with the scenario.
      std::string ref = vhd;
      ASSERT_TRUE(specjournal::Revert(journal, &ref));
      ASSERT_EQ(ref, img.file);

      testutil::WriteFile(P("x.vhd"), vhd);
      testutil::WriteFile(P("x.journal"), journal);
      RevertOutcome o;
      base::Status s =
          RevertResize(base::Env::Default(), P("x.vhd"), P("x.journal"), &o);
      ASSERT_OK(s);
      EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == img.file);
      EXPECT_FALSE(testutil::FileExists(P("x.journal")));
    }
  }
}

TEST_F(ResizeJournalTest, RevertsJournalsWithAnyEntryPadding) {
  // blktap leaves stack garbage in each entry's last 4 bytes; it is summed.
  specvhd::Image img = TapDisk(false, 11);
  std::string vhd, journal;
  Interrupt(img, Point::kDataMoved, &vhd, &journal);
  journal = specjournal::Build(specjournal::FooterUuid(img.file),
                               img.layout.footer_offset,
                               specjournal::Metadata(img.file), {}, 0xc3);
  testutil::WriteFile(P("x.vhd"), vhd);
  testutil::WriteFile(P("x.journal"), journal);
  ASSERT_OK(RevertResize(base::Env::Default(), P("x.vhd"), P("x.journal")));
  // Without the data entries the moved block's place stays zeroed: only
  // what the journal holds comes back.
  std::string want = img.file;
  uint64_t first = img.layout.block_offsets[1];
  want.replace(first, img.layout.bitmap_bytes + 2 * kMiB,
               std::string(img.layout.bitmap_bytes + 2 * kMiB, '\0'));
  EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == want);
}

// Every foreign or damaged file given as the journal is refused with
// vhd-util's code, and both it and the VHD are left byte for byte.
TEST_F(ResizeJournalTest, ForeignOrDamagedJournalsAreRefusedAndKept) {
  specvhd::Image img = TapDisk(false, 5);
  specvhd::Image other = TapDisk(true, 6);
  std::string vhd, journal;
  Interrupt(img, Point::kDataMoved, &vhd, &journal);
  const size_t meta_end =
      journal.size() - (32 + img.layout.bitmap_bytes) - (32 + 2 * kMiB);
  std::string bad_meta = journal, bad_data = journal;
  bad_meta[512 + 32 + 100] ^= 1;      // in the saved footer
  bad_data[journal.size() - 7] ^= 1;  // in the last data entry
  std::string bad_cookie = journal;
  bad_cookie[512] = 0;  // first entry's cookie
  std::string other_journal;
  {
    std::string v;
    Interrupt(other, Point::kBegin, &v, &other_journal);
  }
  struct Case {
    std::string name, bytes;
    int err;
    RevertOutcome::Stage stage;
  };
  using S = RevertOutcome::Stage;
  std::vector<Case> cases = {
      {"another VHD", other.file, -22, S::kOpen},
      {"the VHD itself", vhd, -22, S::kOpen},
      {"random bytes", testutil::RandomBytes(100000, 9), -22, S::kOpen},
      {"an empty file", "", -32, S::kOpen},
      {"a short header", journal.substr(0, 300), -32, S::kOpen},
      {"cut in the metadata", journal.substr(0, 1500), -32, S::kOpen},
      {"cut after the metadata", journal.substr(0, meta_end), -32, S::kRevert},
      {"cut in the data", journal.substr(0, journal.size() - 4096), -32,
       S::kRevert},
      {"bad metadata checksum", bad_meta, -22, S::kOpen},
      {"bad entry cookie", bad_cookie, -22, S::kOpen},
      {"bad data checksum", bad_data, -22, S::kRevert},
      {"another VHD's journal", other_journal, -22, S::kOpen},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    testutil::WriteFile(P("x.vhd"), vhd);
    testutil::WriteFile(P("j"), c.bytes);
    RevertOutcome o;
    base::Status s = RevertResize(base::Env::Default(), P("x.vhd"), P("j"), &o);
    EXPECT_FALSE(s.ok());
    EXPECT_EQ(o.vhd_errno, c.err) << s.ToString();
    EXPECT_EQ(o.stage, c.stage) << s.ToString();
    EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == vhd);
    ASSERT_TRUE(testutil::FileExists(P("j")));
    EXPECT_TRUE(testutil::ReadFile(P("j")) == c.bytes);
  }
  // The right journal for a missing VHD: -ENOENT, journal kept.
  testutil::WriteFile(P("j"), journal);
  RevertOutcome o;
  EXPECT_FALSE(
      RevertResize(base::Env::Default(), P("none.vhd"), P("j"), &o).ok());
  EXPECT_EQ(o.vhd_errno, -2);
  EXPECT_TRUE(testutil::ReadFile(P("j")) == journal);
}

// Any one damaged byte of a journal: revert either does what the described
// format says of those bytes, or refuses and changes nothing. Never a crash.
TEST_F(ResizeJournalTest, DamagedJournalBytesAreRevertedAsWrittenOrRefused) {
  specvhd::Image img = TapDisk(true, 13);
  std::string vhd, journal;
  Interrupt(img, Point::kMetadataMoved, &vhd, &journal);
  const size_t meta_end =
      journal.size() - (32 + img.layout.bitmap_bytes) - (32 + 2 * kMiB);
  std::mt19937_64 rng(42);
  int refused = 0, reverted = 0;
  for (int i = 0; i < 300; ++i) {
    std::string j = journal;
    // Mostly the header and metadata, where the structure is.
    size_t at = (i % 4 == 3) ? rng() % j.size() : rng() % meta_end;
    j[at] ^= static_cast<char>(1 + rng() % 255);
    SCOPED_TRACE("byte " + std::to_string(at));
    testutil::WriteFile(P("x.vhd"), vhd);
    testutil::WriteFile(P("j"), j);
    RevertOutcome o;
    base::Status s = RevertResize(base::Env::Default(), P("x.vhd"), P("j"), &o);
    if (s.ok()) {
      ++reverted;
      std::string ref = vhd;
      ASSERT_TRUE(specjournal::Revert(j, &ref));
      EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == ref);
    } else {
      ++refused;
      EXPECT_TRUE(o.vhd_errno == -22 || o.vhd_errno == -32) << o.vhd_errno;
      EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == vhd);
      EXPECT_TRUE(testutil::ReadFile(P("j")) == j);
    }
    if (HasFailure()) break;
  }
  EXPECT_GT(refused, 200);
  EXPECT_GT(reverted, 0);  // the header's zero padding is not checked
}

// A journal that cannot be removed after the revert is reported as such
// ("removing journal failed"); the disk is reverted and the journal kept,
// and a second revert gives the same bytes.
TEST_F(ResizeJournalTest, JournalThatCannotBeRemovedIsReported) {
  specvhd::Image img = TapDisk(false, 19);
  std::string vhd, journal;
  Interrupt(img, Point::kDataMoved, &vhd, &journal);
  testutil::WriteFile(P("x.vhd"), vhd);
  testutil::WriteFile(P("j"), journal);
  base::FaultInjectionEnv counter(base::Env::Default());
  ASSERT_OK(RevertResize(&counter, P("x.vhd"), P("j")));
  int64_t unlink_at = -1;
  for (size_t i = 0; i < counter.history().size(); ++i) {
    if (counter.history()[i].rfind("unlink ", 0) == 0) unlink_at = i;
  }
  ASSERT_GE(unlink_at, 0);
  testutil::WriteFile(P("x.vhd"), vhd);
  testutil::WriteFile(P("j"), journal);
  base::FaultInjectionEnv fenv(base::Env::Default());
  fenv.FailAt(unlink_at, base::Status::IOError("injected"));
  RevertOutcome o;
  EXPECT_FALSE(RevertResize(&fenv, P("x.vhd"), P("j"), &o).ok());
  EXPECT_EQ(o.stage, RevertOutcome::Stage::kRemove);
  EXPECT_EQ(o.vhd_errno, -5);
  EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == img.file);
  EXPECT_TRUE(testutil::ReadFile(P("j")) == journal);
  ASSERT_OK(RevertResize(base::Env::Default(), P("x.vhd"), P("j")));
  EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == img.file);
}

// The writer refuses what vhd-util could not revert, and writes nothing.
TEST_F(ResizeJournalTest, WriterRefusesMetadataVhdUtilCannotRevert) {
  specvhd::Image img = TapDisk(true, 17);
  auto refused = [&](const std::string& file, const std::string& what) {
    SCOPED_TRACE(what);
    testutil::WriteFile(P("x.vhd"), file);
    std::unique_ptr<base::File> f;
    ASSERT_OK(base::Env::Default()->Open(P("x.vhd"),
                                         base::Env::OpenMode::kReadOnly, &f));
    base::Status s =
        WriteResizeJournal(base::Env::Default(), f.get(), P("j"), {{0, 4096}});
    EXPECT_EQ(s.code(), base::Code::kCorruption) << s.ToString();
    EXPECT_FALSE(testutil::FileExists(P("j")));
  };
  std::string f = img.file;
  // A locator room blktap reads as 0 bytes (>= 512, not a multiple of 512).
  specvhd::PutBE32(&f, img.layout.header_offset + 576 + 4, 700);
  specvhd::ResealHeader(&f, img.layout.header_offset);
  refused(f, "locator size");
  f = img.file;
  f[img.layout.footer_offset + 70] ^= 1;  // primary footer checksum
  refused(f, "footer");
  f = img.file;
  f[100] ^= 1;  // footer copy checksum
  refused(f, "footer copy");
  f = img.file;
  f[img.layout.header_offset + 100] ^= 1;  // header checksum
  refused(f, "header");
  // And a good disk gives a journal the reference revert understands.
  testutil::WriteFile(P("x.vhd"), img.file);
  std::unique_ptr<base::File> g;
  ASSERT_OK(base::Env::Default()->Open(P("x.vhd"),
                                       base::Env::OpenMode::kReadOnly, &g));
  ASSERT_OK(
      WriteResizeJournal(base::Env::Default(), g.get(), P("j"), {{0, 4096}}));
  std::string damaged = img.file;
  damaged.replace(0, 4096, std::string(4096, '\x11'));
  ASSERT_TRUE(specjournal::Revert(testutil::ReadFile(P("j")), &damaged));
  EXPECT_TRUE(damaged == img.file);
}

// Our journaled resize writes the described format: a crash at any of its
// writes leaves either no journal and the disk as it was, or a journal that
// the reference revert (as vhd-util would) turns back into the original.
TEST_F(ResizeJournalTest, OurJournalIsTheFormatAtEveryCrashPoint) {
  CreateParams p;
  p.size = 4 * kMiB;
  ASSERT_OK(CreateVhd(base::Env::Default(), P("a.vhd"), p));
  testutil::WriteFile(P("d"), testutil::RandomBytes(3 * kMiB, 4));
  ASSERT_EQ(Util({"write", "-n", P("a.vhd"), "-i", P("d")}).exit_code, 0);
  const std::string orig = testutil::ReadFile(P("a.vhd"));
  base::FaultInjectionEnv counter(base::Env::Default());
  ASSERT_OK(ResizeJournaled(&counter, P("a.vhd"), 600 * kMiB, P("j")));
  const int64_t n = counter.mutations();
  const std::string done = testutil::ReadFile(P("a.vhd"));
  int journals = 0;
  for (int64_t k = 0; k < n; ++k) {
    SCOPED_TRACE("crash at " + std::to_string(k));
    testutil::WriteFile(P("a.vhd"), orig);
    {
      base::FaultInjectionEnv fenv(base::Env::Default());
      fenv.CrashAt(k);
      EXPECT_FALSE(ResizeJournaled(&fenv, P("a.vhd"), 600 * kMiB, P("j")).ok());
    }
    if (!testutil::FileExists(P("j"))) {
      // Before the journal exists nothing changed; after its removal (only
      // the directory sync is left) the resize is done.
      std::string now = testutil::ReadFile(P("a.vhd"));
      EXPECT_TRUE(now == orig || (k == n - 1 && now == done));
      continue;
    }
    ++journals;
    std::string j = testutil::ReadFile(P("j"));
    std::vector<Entry> meta = specjournal::Metadata(orig);
    // The metadata entries are the original's, in the described order.
    std::string expect_meta = specjournal::Build(
        specjournal::FooterUuid(orig), orig.size() - 512, meta, {}, 0);
    EXPECT_EQ(j.compare(512, expect_meta.size() - 512, expect_meta, 512,
                        expect_meta.size() - 512),
              0);
    std::string ref = testutil::ReadFile(P("a.vhd"));
    ASSERT_TRUE(specjournal::Revert(j, &ref));
    EXPECT_TRUE(ref == orig);
    ASSERT_OK(RevertResize(base::Env::Default(), P("a.vhd"), P("j")));
    EXPECT_TRUE(testutil::ReadFile(P("a.vhd")) == orig);
    if (HasFailure()) break;
  }
  EXPECT_GT(journals, 3);
}

// A fixed disk's grow (vhd-util cannot journal one) is journaled as the
// footer alone: a crash anywhere reverts to the original bytes.
TEST_F(ResizeJournalTest, FixedGrowRevertsAtEveryCrashPoint) {
  CreateParams p;
  p.size = 4 * kMiB;
  p.fixed = true;
  ASSERT_OK(CreateVhd(base::Env::Default(), P("f.vhd"), p));
  std::string orig = testutil::ReadFile(P("f.vhd"));
  orig.replace(0, 3 * kMiB, testutil::RandomBytes(3 * kMiB, 8));
  testutil::WriteFile(P("f.vhd"), orig);
  base::FaultInjectionEnv counter(base::Env::Default());
  ASSERT_OK(ResizeJournaled(&counter, P("f.vhd"), 8 * kMiB, P("j")));
  const std::string done = testutil::ReadFile(P("f.vhd"));
  int journals = 0;
  for (int64_t k = 0; k < counter.mutations(); ++k) {
    SCOPED_TRACE("crash at " + std::to_string(k));
    testutil::WriteFile(P("f.vhd"), orig);
    {
      base::FaultInjectionEnv fenv(base::Env::Default());
      fenv.CrashAt(k);
      ResizeJournaled(&fenv, P("f.vhd"), 8 * kMiB, P("j"));
    }
    if (testutil::FileExists(P("j"))) {
      ++journals;
      ASSERT_OK(RevertResize(base::Env::Default(), P("f.vhd"), P("j")));
      EXPECT_TRUE(testutil::ReadFile(P("f.vhd")) == orig);
    } else {
      std::string now = testutil::ReadFile(P("f.vhd"));
      EXPECT_TRUE(now == orig || now == done);
    }
  }
  EXPECT_GT(journals, 2);
}

TEST_F(ResizeJournalTest, CliRevertLinesAndCodesAreVhdUtils) {
  specvhd::Image img = TapDisk(false, 21);
  std::string vhd, journal;
  Interrupt(img, Point::kEnd, &vhd, &journal);
  testutil::WriteFile(P("x.vhd"), vhd);
  testutil::WriteFile(P("o.vhd"), img.file);
  struct Case {
    std::string journal;
    int code;
    std::string out;
  };
  std::vector<Case> cases = {
      {"", 2, "opening journal failed: -2\n"},
      {img.file, 22, "opening journal failed: -22\n"},
      {std::string(), 32, "opening journal failed: -32\n"},
      {journal.substr(0, journal.size() - 512), 32,
       "reverting journal failed: -32\n"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    if (i == 0) {
      std::remove(P("j").c_str());
    } else {
      testutil::WriteFile(P("j"), cases[i].journal);
    }
    testutil::RunResult r = Util({"revert", "-n", P("x.vhd"), "-j", P("j")});
    EXPECT_EQ(r.exit_code, cases[i].code);
    EXPECT_EQ(r.out, cases[i].out);
    EXPECT_EQ(r.err, "");
    EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == vhd);
  }
  testutil::WriteFile(P("j"), journal);
  testutil::RunResult r = Util({"revert", "-n", P("x.vhd"), "-j", P("j")});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out + r.err, "");
  EXPECT_TRUE(testutil::ReadFile(P("x.vhd")) == img.file);
  EXPECT_FALSE(testutil::FileExists(P("j")));
  // Usage.
  r = Util({"revert", "-n", P("x.vhd")});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, "options: <-n name> <-j journal> [-h help]\n");
}

TEST_F(ResizeJournalTest, CliShrinkCodesAreVhdUtils) {
  ASSERT_EQ(Util({"create", "-n", P("a.vhd"), "-s", "100"}).exit_code, 0);
  const std::string before = testutil::ReadFile(P("a.vhd"));
  testutil::RunResult r =
      Util({"resize", "-n", P("a.vhd"), "-s", "50", "-j", P("j")});
  EXPECT_EQ(r.exit_code, 38);
  EXPECT_EQ(r.out,
            "dynamic shrink not fully implemented\nresize failed: -38\n");
  EXPECT_FALSE(testutil::FileExists(P("j")));
  r = Util({"resize", "-n", P("a.vhd"), "-s", "50", "-f"});
  EXPECT_EQ(r.exit_code, 22);
  EXPECT_EQ(r.out, P("a.vhd") + ": size (52428800) < curr size (104857600)\n");
  EXPECT_EQ(r.err, "");
  EXPECT_TRUE(testutil::ReadFile(P("a.vhd")) == before);
}

}  // namespace
}  // namespace vhd
