#include "xmlrpc/base64.h"

#include <cstdint>

namespace xmlrpc {

namespace {

constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// -1 for bytes outside the alphabet.
int DecodeChar(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

}  // namespace

std::string EncodeBase64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string EncodeBase64Lines(std::string_view bytes) {
  // 57 input bytes make one 76-character line.
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 57) {
    out += EncodeBase64(bytes.substr(i, 57));
    out += '\n';
  }
  return out;
}

std::optional<std::string> DecodeBase64(std::string_view text) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;     // number of data sextets in the current quantum
  int padding = 0;  // '=' seen
  for (unsigned char c : text) {
    if (IsSpace(c)) continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    int v = DecodeChar(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | v;
    if (++bits == 4) {
      out += static_cast<char>((acc >> 16) & 0xff);
      out += static_cast<char>((acc >> 8) & 0xff);
      out += static_cast<char>(acc & 0xff);
      acc = 0;
      bits = 0;
    }
  }
  // A final quantum of 2 or 3 sextets needs exactly 2 or 1 '='; a complete
  // input needs none. One sextet alone is never valid. Unused trailing bits
  // need not be zero (RFC 4648 3.5 lets decoders accept that).
  if (bits == 0) return padding == 0 ? std::optional(out) : std::nullopt;
  if (bits == 1 || bits + padding != 4) return std::nullopt;
  if (bits == 2) {
    out += static_cast<char>((acc >> 4) & 0xff);
  } else {
    out += static_cast<char>((acc >> 10) & 0xff);
    out += static_cast<char>((acc >> 2) & 0xff);
  }
  return out;
}

}  // namespace xmlrpc
