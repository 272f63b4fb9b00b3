#include "xmlrpc/datetime.h"

#include <cstdio>

namespace xmlrpc {

namespace {

// Reads exactly `n` decimal digits at `*pos`; advances on success.
bool ReadDigits(std::string_view text, size_t* pos, int n, int* out) {
  if (text.size() - *pos < static_cast<size_t>(n)) return false;
  int value = 0;
  for (int i = 0; i < n; ++i) {
    char c = text[*pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  *pos += n;
  *out = value;
  return true;
}

// Consumes `c` at `*pos` if present.
bool Accept(std::string_view text, size_t* pos, char c) {
  if (*pos < text.size() && text[*pos] == c) {
    ++*pos;
    return true;
  }
  return false;
}

int DaysInMonth(int year, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

}  // namespace

std::optional<DateTime> DateTime::Parse(std::string_view text) {
  DateTime t;
  size_t pos = 0;
  if (!ReadDigits(text, &pos, 4, &t.year)) return std::nullopt;
  bool extended = Accept(text, &pos, '-');
  if (!ReadDigits(text, &pos, 2, &t.month)) return std::nullopt;
  if (extended && !Accept(text, &pos, '-')) return std::nullopt;
  if (!ReadDigits(text, &pos, 2, &t.day)) return std::nullopt;
  if (!Accept(text, &pos, 'T')) return std::nullopt;
  if (!ReadDigits(text, &pos, 2, &t.hour)) return std::nullopt;
  bool colons = Accept(text, &pos, ':');
  if (!ReadDigits(text, &pos, 2, &t.minute)) return std::nullopt;
  if (colons && !Accept(text, &pos, ':')) return std::nullopt;
  if (!ReadDigits(text, &pos, 2, &t.second)) return std::nullopt;
  if (Accept(text, &pos, 'Z')) {
    t.zone = Zone::kUtc;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int hours = 0, minutes = 0;
    if (!ReadDigits(text, &pos, 2, &hours)) return std::nullopt;
    if (pos < text.size()) {
      Accept(text, &pos, ':');
      if (!ReadDigits(text, &pos, 2, &minutes)) return std::nullopt;
    }
    if (hours > 23 || minutes > 59) return std::nullopt;
    t.zone = Zone::kOffset;
    t.offset_minutes = sign * (hours * 60 + minutes);
  }
  if (pos != text.size() || !t.IsValid()) return std::nullopt;
  return t;
}

bool DateTime::IsValid() const {
  if (year < 0 || year > 9999 || month < 1 || month > 12) return false;
  if (day < 1 || day > DaysInMonth(year, month)) return false;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  if (second < 0 || second > 60) return false;
  if (zone == Zone::kOffset &&
      (offset_minutes < -(23 * 60 + 59) || offset_minutes > 23 * 60 + 59)) {
    return false;
  }
  return true;
}

std::string DateTime::Format() const {
  char buf[40];
  int n = std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d:%02d:%02d",
                        year % 10000, month % 100, day % 100, hour % 100,
                        minute % 100, second % 100);
  std::string out(buf, n);
  if (zone == Zone::kUtc) {
    out += 'Z';
  } else if (zone == Zone::kOffset) {
    int magnitude = offset_minutes < 0 ? -offset_minutes : offset_minutes;
    n = std::snprintf(buf, sizeof(buf), "%c%02d:%02d",
                      offset_minutes < 0 ? '-' : '+', (magnitude / 60) % 100,
                      magnitude % 60);
    out.append(buf, n);
  }
  return out;
}

}  // namespace xmlrpc
