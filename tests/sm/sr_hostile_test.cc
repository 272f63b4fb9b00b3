// The audit's attack on an SR, through every path that merges, relinks or
// images: a hidden differencing VHD in the SR whose header names a VDI of
// the SR while its locators (absolute, "../"), a symlink, a null or wrong
// parent uuid, or a parent loop lead to a file outside the SR. Whatever runs
// (Sr::Gc, `vhdsm sr gc DIR`, vdi_compose, vdi_coalesce's chain check, the
// snapshot step of image_create), the outside files stay byte-identical, the
// SR's readable VDIs read the same bytes, the hostile layer and what is
// above it are reported broken with the reason, and their bytes never
// change.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sm/sr.h"
#include "tests/util/status_matchers.h"
#include "tests/util/test_util.h"
#include "vhd/chain.h"
#include "vhd/create.h"
#include "vhd/format.h"
#include "vhd/image.h"
#include "vhd/inspect.h"
#include "vhd/uuid.h"

namespace vhdsm {
namespace {

constexpr uint64_t kMiB = 1 << 20;

enum class Attack {
  kAbsolute,
  kDotDot,
  kSymlink,
  kNullUuid,
  kWrongUuid,
  kLoop
};

std::string Name(Attack a) {
  switch (a) {
    case Attack::kAbsolute:
      return "AbsoluteLocator";
    case Attack::kDotDot:
      return "DotDotLocator";
    case Attack::kSymlink:
      return "SymlinkInSr";
    case Attack::kNullUuid:
      return "NullParentUuid";
    case Attack::kWrongUuid:
      return "WrongParentUuid";
    case Attack::kLoop:
      return "ParentLoop";
  }
  return "?";
}

// Rewrites the dynamic header of a VHD file (at 512) through `edit`.
template <typename F>
void EditHeader(const std::string& path, F edit) {
  std::string d = testutil::ReadFile(path);
  auto* u = reinterpret_cast<uint8_t*>(d.data());
  vhd::DynamicHeader h = vhd::DynamicHeader::Decode(u + 512);
  edit(&h, &d);
  h.Seal();
  h.Encode(reinterpret_cast<uint8_t*>(d.data()) + 512);
  testutil::WriteFile(path, d);
}

vhd::Uuid FooterUuid(const std::string& path) {
  std::unique_ptr<vhd::Image> img;
  EXPECT_OK(
      vhd::OpenImage(base::Env::Default(), path, vhd::OpenOptions(), &img));
  return img ? img->footer()->uuid : vhd::Uuid();
}

class SrHostileTest : public ::testing::TestWithParam<Attack> {
 protected:
  void SetUp() override {
    sr_dir_ = top_.Join("sr");
    out_ = top_.Join("out");
    ASSERT_EQ(::mkdir(sr_dir_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir(out_.c_str(), 0755), 0);
    ASSERT_OK(Sr::Open(sr_dir_, &sr_));
    // Outside: a 320-byte file and a small VHD.
    testutil::WriteFile(out_ + "/victim", testutil::RandomBytes(320, 7));
    vhd::CreateParams cp;
    cp.size = 4 * kMiB;
    ASSERT_OK(vhd::CreateVhd(base::Env::Default(), out_ + "/victim.vhd", cp));

    // A readable VDI with a snapshot (a hidden base the GC folds away).
    good_ = NewVdi();
    Write(good_, 0, testutil::RandomBytes(3 * kMiB, 1));
    Vdi snap;
    ASSERT_OK(sr_->SnapshotVdi(good_, SnapshotKind::kSingle, VdiMeta(), &snap));
    Write(good_, kMiB, "after the snapshot");
    // X: a hidden VDI of the SR that the hostile layer names as its parent.
    x_ = NewVdi();
    ASSERT_OK(vhd::SetHidden(sr_->env(), P(x_), true));
    Build(GetParam());
    // H holds data: a merge through its locators would write it outside.
    {
      vhd::ChainOptions o;
      o.writable = true;  // the POSIX Env: vhd-util's view of H
      std::unique_ptr<vhd::Chain> c;
      // (Best effort: a loop does not open, a 320-byte raw parent does not
      // cover the block.)
      if (vhd::Chain::Open(P(h_), o, &c).ok()) {
        std::string d(64 << 10, 'h');
        if (c->Write(0, d.size(), d.data()).ok()) c->Flush();
      }
    }
    // C: a leaf above the hostile layer H, with data, as a VM would have.
    c_ = vhd::Uuid::Generate().ToString();
    ASSERT_OK(vhd::CreateDifferencing(base::Env::Default(), P(c_), P(h_),
                                      vhd::SnapshotParams()));
    RecordState();
  }

  std::string P(const std::string& uuid) { return sr_->VdiPath(uuid); }
  std::string NewVdi() {
    Vdi v;
    EXPECT_OK(sr_->CreateVdi(4 * kMiB, VdiMeta(), "", &v));
    return v.uuid;
  }
  void Write(const std::string& uuid, uint64_t off, const std::string& d) {
    vhd::ChainOptions o;
    o.writable = true;
    o.env = sr_->env();
    std::unique_ptr<vhd::Chain> c;
    ASSERT_OK(vhd::Chain::Open(P(uuid), o, &c));
    ASSERT_OK(c->Write(off, d.size(), d.data()));
    ASSERT_OK(c->Flush());
  }
  std::string View(const std::string& uuid) {
    vhd::ChainOptions o;
    o.env = sr_->env();
    std::unique_ptr<vhd::Chain> c;
    base::Status s = vhd::Chain::Open(P(uuid), o, &c);
    if (!s.ok()) return "<error> " + s.ToString();
    std::string out(c->virtual_size(), '\0');
    EXPECT_OK(c->Read(0, out.size(), out.data()));
    return out;
  }

  // H: hidden, differencing, named <h_>.vhd in the SR.
  void Build(Attack a) {
    h_ = vhd::Uuid::Generate().ToString();
    const std::string victim_vhd = out_ + "/victim.vhd";
    vhd::SnapshotParams sp;
    switch (a) {
      case Attack::kAbsolute:
      case Attack::kDotDot:
        // Locators "../out/victim.vhd", the uuid of that file; the header
        // names X. kAbsolute: MacX holds the absolute path, alone.
        ASSERT_OK(vhd::CreateDifferencing(base::Env::Default(), P(h_),
                                          victim_vhd, sp));
        EditHeader(P(h_), [&](vhd::DynamicHeader* h, std::string* d) {
          ASSERT_OK(h->SetParentName(x_ + ".vhd"));
          if (a != Attack::kAbsolute) return;
          std::string url = "file://" + victim_vhd;
          ASSERT_LE(url.size(), h->loc[0].SpaceBytes());
          d->replace(h->loc[0].data_offset, url.size(), url);
          h->loc[0].data_length = static_cast<uint32_t>(url.size());
          h->loc[1] = vhd::ParentLocatorEntry();
          h->loc[2] = vhd::ParentLocatorEntry();
        });
        break;
      case Attack::kSymlink: {
        // <s>.vhd in the SR is a symlink to the outside VHD.
        std::string s = vhd::Uuid::Generate().ToString();
        ASSERT_EQ(::symlink(victim_vhd.c_str(), P(s).c_str()), 0);
        ASSERT_OK(
            vhd::CreateDifferencing(base::Env::Default(), P(h_), P(s), sp));
        EditHeader(P(h_), [&](vhd::DynamicHeader* h, std::string*) {
          ASSERT_OK(h->SetParentName(s + ".vhd"));
        });
        break;
      }
      case Attack::kNullUuid:
        // A "raw parent": the 320-byte file, through "../out/victim".
        sp.raw_parent = true;
        ASSERT_OK(vhd::CreateDifferencing(base::Env::Default(), P(h_),
                                          out_ + "/victim", sp));
        EditHeader(P(h_), [&](vhd::DynamicHeader* h, std::string*) {
          ASSERT_OK(h->SetParentName(x_ + ".vhd"));
        });
        break;
      case Attack::kWrongUuid:
        // Header and locators name X; the recorded uuid is not X's.
        ASSERT_OK(
            vhd::CreateDifferencing(base::Env::Default(), P(h_), P(x_), sp));
        EditHeader(P(h_), [&](vhd::DynamicHeader* h, std::string*) {
          h->parent_uuid = FooterUuid(victim_vhd);
        });
        break;
      case Attack::kLoop:
        // H names itself, with its own uuid (= the outside VHD's, where its
        // locators lead).
        sp.uuid = FooterUuid(victim_vhd);
        ASSERT_OK(vhd::CreateDifferencing(base::Env::Default(), P(h_),
                                          victim_vhd, sp));
        EditHeader(P(h_), [&](vhd::DynamicHeader* h, std::string*) {
          ASSERT_OK(h->SetParentName(h_ + ".vhd"));
        });
        break;
    }
    // Hidden: footer byte 85, both copies, as blktap.
    std::string d = testutil::ReadFile(P(h_));
    for (uint64_t off : {uint64_t{0}, uint64_t{d.size() - 512}}) {
      auto* u = reinterpret_cast<uint8_t*>(d.data()) + off;
      vhd::Footer f = vhd::Footer::Decode(u);
      f.hidden = 1;
      f.Seal();
      f.Encode(u);
    }
    testutil::WriteFile(P(h_), d);
  }

  void RecordState() {
    outside_[out_ + "/victim"] = testutil::ReadFile(out_ + "/victim");
    outside_[out_ + "/victim.vhd"] = testutil::ReadFile(out_ + "/victim.vhd");
    for (const std::string& u : {h_, c_}) frozen_[u] = testutil::ReadFile(P(u));
    // X, when H names it, is H's parent for all the SR knows: kept as is.
    if (GetParam() != Attack::kSymlink && GetParam() != Attack::kLoop) {
      frozen_[x_] = testutil::ReadFile(P(x_));
    }
    good_view_ = View(good_);
    ASSERT_EQ(good_view_.substr(kMiB, 18), "after the snapshot");
  }

  // The invariants of every test.
  void ExpectNothingLost() {
    for (const auto& [path, bytes] : outside_) {
      EXPECT_EQ(testutil::ReadFile(path), bytes) << path << " changed";
    }
    std::vector<std::string> names;
    ASSERT_OK(base::Env::Default()->ListDir(out_, &names));
    EXPECT_EQ(names.size(), 2u);
    for (const auto& [uuid, bytes] : frozen_) {
      EXPECT_EQ(testutil::ReadFile(P(uuid)), bytes) << uuid << " changed";
    }
    EXPECT_EQ(View(good_), good_view_);
  }

  void ExpectReportedBroken() {
    std::map<std::string, Vdi> vdis;
    ASSERT_OK(sr_->Scan(&vdis));
    ASSERT_TRUE(vdis.count(h_));
    ASSERT_TRUE(vdis.count(c_));
    const Vdi& h = vdis[h_];
    EXPECT_FALSE(h.broken.ok());
    EXPECT_NE(h.broken.message().find(h_ + ".vhd"), std::string::npos)
        << h.broken.ToString();
    EXPECT_FALSE(vdis[c_].broken.ok());
    EXPECT_NE(vdis[c_].broken.message().find("above a broken layer"),
              std::string::npos)
        << vdis[c_].broken.ToString();
    EXPECT_OK(vdis[good_].broken);
    const char* why = "";
    switch (GetParam()) {
      case Attack::kAbsolute:
      case Attack::kDotDot:
      case Attack::kWrongUuid:
        why = "expects parent";
        break;
      case Attack::kSymlink:
        why = "symlink";
        break;
      case Attack::kNullUuid:
        why = "raw parent";
        break;
      case Attack::kLoop:
        why = "loop";
        break;
    }
    EXPECT_NE(h.broken.message().find(why), std::string::npos)
        << h.broken.ToString();
  }

  testutil::TempDir top_;
  std::string sr_dir_, out_;
  std::unique_ptr<Sr> sr_;
  std::string good_, x_, h_, c_;
  std::map<std::string, std::string> outside_, frozen_;
  std::string good_view_;
};

TEST_P(SrHostileTest, ScanReportsTheLayerBroken) {
  ExpectReportedBroken();
  ExpectNothingLost();
}

TEST_P(SrHostileTest, GcLeavesItAlone) {
  GcReport r;
  base::Status s = sr_->Gc(GcOptions(), &r);
  EXPECT_OK(s);
  EXPECT_EQ(r.leaf_coalesced, 1);  // the good chain was still folded
  ExpectNothingLost();
  ExpectReportedBroken();
}

TEST_P(SrHostileTest, VhdsmSrGcLeavesItAlone) {
  testutil::RunResult r =
      testutil::Run({testutil::Built("bin/vhdsm"), "sr", "gc", sr_dir_});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  ExpectNothingLost();
  r = testutil::Run({testutil::Built("bin/vhdsm"), "sr", "scan", sr_dir_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("BROKEN"), std::string::npos) << r.out;
  ExpectNothingLost();
}

TEST_P(SrHostileTest, ComposeCoalesceAndSnapshotRefuse) {
  // vdi_compose: neither onto the broken layer nor of what is above it.
  base::Status s = sr_->Compose(h_, good_);
  EXPECT_FALSE(s.ok());
  s = sr_->Compose(x_, c_);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("broken"), std::string::npos) << s.ToString();
  // vdi_coalesce and image_create check the chain first, and say why.
  s = sr_->CheckChain(c_);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(h_), std::string::npos) << s.ToString();
  EXPECT_OK(sr_->CheckChain(good_));
  // image_create's snapshot step.
  Vdi snap;
  s = sr_->SnapshotVdi(c_, SnapshotKind::kDouble, VdiMeta(), &snap);
  EXPECT_FALSE(s.ok());
  // Attach: blktap would follow the locators.
  Vdi v;
  EXPECT_FALSE(sr_->AttachVdi(c_, "host", &v).ok());
  // The chain cannot be read through the SR's Env either.
  EXPECT_EQ(View(c_).rfind("<error>", 0), 0u);
  ExpectNothingLost();
}

INSTANTIATE_TEST_SUITE_P(Attacks, SrHostileTest,
                         ::testing::Values(Attack::kAbsolute, Attack::kDotDot,
                                           Attack::kSymlink, Attack::kNullUuid,
                                           Attack::kWrongUuid, Attack::kLoop),
                         [](const ::testing::TestParamInfo<Attack>& i) {
                           return Name(i.param);
                         });

}  // namespace
}  // namespace vhdsm
