#include "image/chain_image_source.h"

namespace vhdsm {

base::Status ChainImageSource::Open(base::Env* env,
                                    const std::string& leaf_path,
                                    const vhd::Uuid& uuid, uint32_t timestamp,
                                    std::unique_ptr<ChainImageSource>* out) {
  std::unique_ptr<vhd::Chain> chain;
  vhd::ChainOptions co;
  co.env = env;
  RETURN_IF_ERROR(vhd::Chain::Open(leaf_path, co, &chain));
  std::unique_ptr<vhd::VhdStream> stream;
  RETURN_IF_ERROR(vhd::VhdStream::Open(chain.get(), uuid, timestamp, &stream));
  out->reset(new ChainImageSource(std::move(chain), std::move(stream)));
  return base::Status::OK();
}

base::Status ChainImageSource::Read(uint8_t* buf, size_t n, size_t* got) {
  base::Status s = stream_->Read(buf, n, got);
  done_.store(stream_->position());
  return s;
}

int64_t ChainImageSource::Size() const {
  return static_cast<int64_t>(stream_->Size());
}

upload::SourceProgress ChainImageSource::Progress() const {
  return {done_.load(), static_cast<int64_t>(stream_->Size())};
}

}  // namespace vhdsm
