// ChainImageSource: a VHD chain, read-only, as the byte stream of one
// standalone VHD (vhd::VhdStream) for the uploader (upload::ByteSource).
//
// The stream's uuid and timestamp are given, not drawn, so that the same
// chain yields the same bytes on every run: a resumed upload finds its
// stored segments. The chain is opened through `env` (an SR's confined Env:
// the chain never leaves the SR). Progress() may be called from any thread.
#ifndef VHDSM_IMAGE_CHAIN_IMAGE_SOURCE_H_
#define VHDSM_IMAGE_CHAIN_IMAGE_SOURCE_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "base/env.h"
#include "base/status.h"
#include "upload/byte_source.h"
#include "vhd/chain.h"
#include "vhd/uuid.h"
#include "vhd/vhd_stream.h"

namespace vhdsm {

class ChainImageSource : public upload::ByteSource {
 public:
  // Opens the chain whose leaf is `leaf_path`.
  static base::Status Open(base::Env* env, const std::string& leaf_path,
                           const vhd::Uuid& uuid, uint32_t timestamp,
                           std::unique_ptr<ChainImageSource>* out);

  base::Status Read(uint8_t* buf, size_t n, size_t* got) override;
  int64_t Size() const override;
  upload::SourceProgress Progress() const override;

 private:
  ChainImageSource(std::unique_ptr<vhd::Chain> chain,
                   std::unique_ptr<vhd::VhdStream> stream)
      : chain_(std::move(chain)), stream_(std::move(stream)) {}

  std::unique_ptr<vhd::Chain> chain_;
  std::unique_ptr<vhd::VhdStream> stream_;
  std::atomic<uint64_t> done_{0};
};

}  // namespace vhdsm

#endif  // VHDSM_IMAGE_CHAIN_IMAGE_SOURCE_H_
