#include "tests/util/chain_fixture.h"

#include <memory>

#include "base/env.h"
#include "tests/util/status_matchers.h"
#include "vhd/chain.h"
#include "vhd/create.h"

namespace testutil {

void ChainFixture::Create(const std::string& name, uint64_t size) {
  vhd::CreateParams p;
  p.size = size;
  ASSERT_OK(vhd::CreateVhd(base::Env::Default(), P(name), p));
}

void ChainFixture::Snap(const std::string& child, const std::string& parent,
                        uint64_t size) {
  vhd::SnapshotParams sp;
  sp.size = size;
  ASSERT_OK(
      vhd::CreateDifferencing(base::Env::Default(), P(child), P(parent), sp));
}

void ChainFixture::Write(const std::string& name, uint64_t off,
                         const std::string& data) {
  vhd::ChainOptions o;
  o.writable = true;
  std::unique_ptr<vhd::Chain> c;
  ASSERT_OK(vhd::Chain::Open(P(name), o, &c));
  ASSERT_OK(c->Write(off, data.size(), data.data()));
  ASSERT_OK(c->Flush());
}

std::string ChainFixture::Read(const std::string& name) {
  std::unique_ptr<vhd::Chain> c;
  base::Status s = vhd::Chain::Open(P(name), vhd::ChainOptions(), &c);
  EXPECT_OK(s) << name;
  if (!s.ok()) return "";
  std::string out(c->virtual_size(), '\0');
  s = c->Read(0, out.size(), out.data());
  EXPECT_OK(s) << name;
  return s.ok() ? out : "";
}

std::string ChainFixture::View(const std::string& name) {
  std::unique_ptr<vhd::Chain> c;
  base::Status s = vhd::Chain::Open(P(name), vhd::ChainOptions(), &c);
  if (!s.ok()) return "<error> " + s.ToString();
  std::string out(c->virtual_size(), '\0');
  s = c->Read(0, out.size(), out.data());
  if (!s.ok()) return "<error> " + s.ToString();
  return out;
}

}  // namespace testutil
