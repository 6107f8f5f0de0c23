#include "data/pipeline/image_header.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "common/read_file.h"

namespace gcl::data {
namespace {

uint32_t U8(std::string_view b, size_t at) { return static_cast<uint8_t>(b[at]); }
uint32_t BigEndian16(std::string_view b, size_t at) { return (U8(b, at) << 8) | U8(b, at + 1); }
uint32_t BigEndian32(std::string_view b, size_t at) { return (BigEndian16(b, at) << 16) | BigEndian16(b, at + 2); }
uint32_t LittleEndian16(std::string_view b, size_t at) { return U8(b, at) | (U8(b, at + 1) << 8); }
uint32_t LittleEndian32(std::string_view b, size_t at) {
  return LittleEndian16(b, at) | (LittleEndian16(b, at + 2) << 16);
}

std::string Hex(uint32_t byte) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02X", byte);
  return text;
}

// JPEG (ITU T.81 annex B): segments with a 16-bit length after SOI; each scan's entropy-coded data runs to the
// next marker (0xFF followed by a byte other than 0x00 and RST0..7); the file ends with EOI. A decoder reaching
// the end of the data before EOI fills the rest with grey and only warns, so EOI is required here.
StatusOr<ImageHeader> InspectJpeg(std::string_view b) {
  const std::string truncated = "JPEG ends before its end-of-image marker (truncated)";
  ImageHeader h;
  h.format = ImageFormat::kJpeg;
  bool have_frame = false, have_scan = false;
  size_t pos = 2;
  while (true) {
    if (pos >= b.size()) return MakeError(truncated);
    if (U8(b, pos) != 0xFF) {
      return MakeError("JPEG: expected a marker at byte " + std::to_string(pos) + ", found " + Hex(U8(b, pos)));
    }
    while (pos < b.size() && U8(b, pos) == 0xFF) ++pos;  // fill bytes
    if (pos >= b.size()) return MakeError(truncated);
    const uint32_t marker = U8(b, pos++);
    if (marker == 0xD9) {  // EOI
      if (!have_scan) return MakeError("JPEG holds no image data (end-of-image marker before any scan)");
      return h;
    }
    if ((marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) continue;  // RSTn, TEM: no length
    if (marker == 0x00 || marker == 0xD8) {
      return MakeError("JPEG: unexpected marker " + Hex(marker) + " at byte " + std::to_string(pos - 1));
    }
    if (pos + 2 > b.size()) return MakeError(truncated);
    const size_t length = BigEndian16(b, pos);
    if (length < 2) {
      return MakeError("JPEG: segment " + Hex(marker) + " at byte " + std::to_string(pos) + " has length " +
                       std::to_string(length));
    }
    if (length > b.size() - pos) {
      return MakeError("JPEG segment " + Hex(marker) + " at byte " + std::to_string(pos) +
                       " runs past the end of the file (truncated)");
    }
    const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (frame) {
      // One frame per file (libjpeg decodes the first): a second frame header could claim other dimensions than
      // the ones checked against the pixel limit.
      if (have_frame) return MakeError("JPEG with a second frame header at byte " + std::to_string(pos - 2));
      if (length < 8) return MakeError("JPEG: frame header of " + std::to_string(length) + " bytes");
      h.height = BigEndian16(b, pos + 3);
      h.width = BigEndian16(b, pos + 5);
      if (h.width == 0 || h.height == 0) {
        return MakeError("JPEG frame of " + std::to_string(h.width) + " x " + std::to_string(h.height) + " pixels");
      }
      have_frame = true;
    }
    pos += length;
    if (marker != 0xDA) continue;  // not SOS
    if (!have_frame) return MakeError("JPEG: a scan before any frame header");
    have_scan = true;
    // Entropy-coded data up to the next marker.
    while (true) {
      const void* ff = std::memchr(b.data() + pos, 0xFF, b.size() - pos);
      if (ff == nullptr) return MakeError(truncated);
      pos = static_cast<size_t>(static_cast<const char*>(ff) - b.data());
      if (pos + 1 >= b.size()) return MakeError(truncated);
      const uint32_t next = U8(b, pos + 1);
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {  // a stuffed 0xFF byte, or a restart marker
        pos += 2;
        continue;
      }
      break;  // a marker (or fill bytes before one): the outer loop reads it
    }
  }
}

// PNG (ISO/IEC 15948): signature, IHDR first, chunks of length + type + data + CRC, IEND last.
StatusOr<ImageHeader> InspectPng(std::string_view b) {
  ImageHeader h;
  h.format = ImageFormat::kPng;
  size_t pos = 8;
  bool first = true, have_data = false;
  while (true) {
    if (pos + 8 > b.size()) return MakeError("PNG ends before its IEND chunk (truncated)");
    const uint32_t length = BigEndian32(b, pos);
    const std::string type(b.substr(pos + 4, 4));
    if (length > 0x7FFFFFFFu) return MakeError("PNG chunk at byte " + std::to_string(pos) + " has an invalid length");
    if (static_cast<uint64_t>(length) + 12 > b.size() - pos) {
      return MakeError("PNG chunk " + type + " at byte " + std::to_string(pos) +
                       " runs past the end of the file (truncated)");
    }
    if (first) {
      if (type != "IHDR" || length != 13) return MakeError("PNG does not start with an IHDR chunk");
      h.width = BigEndian32(b, pos + 8);
      h.height = BigEndian32(b, pos + 12);
      if (h.width == 0 || h.height == 0 || h.width > 0x7FFFFFFF || h.height > 0x7FFFFFFF) {
        return MakeError("PNG image of " + std::to_string(h.width) + " x " + std::to_string(h.height) + " pixels");
      }
      first = false;
    }
    if (type == "IDAT") have_data = true;
    if (type == "IEND") {
      if (!have_data) return MakeError("PNG holds no image data (no IDAT chunk)");
      return h;
    }
    pos += 12 + static_cast<size_t>(length);
  }
}

// BMP: 14-byte file header (pixel array offset at 10) and an OS/2 (12-byte) or Windows (>= 40-byte) info header.
StatusOr<ImageHeader> InspectBmp(std::string_view b) {
  ImageHeader h;
  h.format = ImageFormat::kBmp;
  if (b.size() < 26) return MakeError("BMP header is truncated");
  const uint64_t offset = LittleEndian32(b, 10);
  const uint32_t info_size = LittleEndian32(b, 14);
  uint32_t bits = 0, compression = 0;
  if (info_size == 12) {
    h.width = LittleEndian16(b, 18);
    h.height = LittleEndian16(b, 20);
    bits = LittleEndian16(b, 24);
  } else if (info_size >= 40) {
    if (b.size() < 54) return MakeError("BMP header is truncated");
    h.width = static_cast<int32_t>(LittleEndian32(b, 18));
    h.height = static_cast<int32_t>(LittleEndian32(b, 22));
    bits = LittleEndian16(b, 28);
    compression = LittleEndian32(b, 30);
  } else {
    return MakeError("BMP info header of " + std::to_string(info_size) + " bytes is not supported");
  }
  if (h.height < 0) h.height = -h.height;  // top-down rows
  if (h.width <= 0 || h.height == 0) {
    return MakeError("BMP image of " + std::to_string(h.width) + " x " + std::to_string(h.height) + " pixels");
  }
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    return MakeError("BMP with " + std::to_string(bits) + " bits per pixel");
  }
  if (offset > b.size()) return MakeError("BMP pixel data starts past the end of the file (truncated)");
  const bool uncompressed = compression == 0 || compression == 3 || compression == 6;  // RGB, BITFIELDS
  if (uncompressed) {
    const uint64_t stride = (static_cast<uint64_t>(bits) * static_cast<uint64_t>(h.width) + 31) / 32 * 4;
    if (stride > (b.size() - offset) / static_cast<uint64_t>(h.height)) {
      return MakeError("BMP pixel data of " + std::to_string(h.width) + " x " + std::to_string(h.height) +
                       " pixels runs past the end of the file (truncated)");
    }
  }
  return h;
}

}  // namespace

const char* ImageFormatName(ImageFormat format) {
  switch (format) {
    case ImageFormat::kJpeg:
      return "JPEG";
    case ImageFormat::kPng:
      return "PNG";
    case ImageFormat::kBmp:
      return "BMP";
  }
  return "?";
}

StatusOr<ImageHeader> InspectImage(std::string_view bytes) {
  if (bytes.size() >= 3 && U8(bytes, 0) == 0xFF && U8(bytes, 1) == 0xD8 && U8(bytes, 2) == 0xFF) {
    return InspectJpeg(bytes);
  }
  static const char kPng[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1A', '\n'};
  if (bytes.size() >= 8 && std::memcmp(bytes.data(), kPng, 8) == 0) return InspectPng(bytes);
  if (bytes.size() >= 2 && bytes[0] == 'B' && bytes[1] == 'M') return InspectBmp(bytes);
  if (bytes.empty()) return MakeError("empty file, not an image");
  return MakeError("not a JPEG, PNG or BMP file");
}

std::string CheckPixelLimit(const ImageHeader& header, int64_t max_pixels) {
  const int64_t pixels = header.width * header.height;  // each side < 2^31
  if (pixels <= max_pixels) return "";
  return std::string(ImageFormatName(header.format)) + " of " + std::to_string(header.width) + " x " +
         std::to_string(header.height) + " = " + std::to_string(pixels) + " pixels, above the limit of " +
         std::to_string(max_pixels) + " (max_image_pixels)";
}

uint64_t MaxImageFileBytes(int64_t max_pixels) {
  constexpr uint64_t kMetadata = uint64_t{16} << 20;  // EXIF, ICC profiles, thumbnails
  const uint64_t pixels = max_pixels > 0 ? static_cast<uint64_t>(max_pixels) : 0;
  if (pixels > (std::numeric_limits<uint64_t>::max() - kMetadata) / 4) return std::numeric_limits<uint64_t>::max();
  return 4 * pixels + kMetadata;
}

std::string ReadCheckedImage(const std::string& path, int64_t max_pixels, ImageHeader* header) {
  std::string bytes = ReadWholeFile(path, MaxImageFileBytes(max_pixels), "image");
  const StatusOr<ImageHeader> h = InspectImage(bytes);
  if (!h.ok()) throw std::runtime_error(path + ": " + h.error());
  if (const std::string problem = CheckPixelLimit(*h, max_pixels); !problem.empty()) {
    throw std::runtime_error(path + ": " + problem);
  }
  if (header != nullptr) *header = *h;
  return bytes;
}

}  // namespace gcl::data
