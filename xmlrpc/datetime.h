// DateTime: the value of an XML-RPC <dateTime.iso8601>.
//
// The XML-RPC spec gives the form 19980717T14:08:55 and no time zone
// semantics; xapi emits and accepts an optional zone, "Z" or "+hh:mm"/"-hh:mm".
// A DateTime keeps the fields as written (no conversion to UTC), so a value
// parsed and written again keeps its meaning and, in the canonical form below,
// its bytes.
//
// Parse accepts the basic (YYYYMMDD) or extended (YYYY-MM-DD) date, 'T', the
// time as HH:MM:SS or HHMMSS, and an optional zone Z, +hh:mm, +hhmm or +hh.
// Fields are range-checked (day against the month, leap years included;
// second 60 allowed for a leap second). Format writes the canonical form
// YYYYMMDDTHH:MM:SS followed by nothing, "Z" or "+hh:mm".
#ifndef VHDSM_XMLRPC_DATETIME_H_
#define VHDSM_XMLRPC_DATETIME_H_

#include <optional>
#include <string>
#include <string_view>

namespace xmlrpc {

struct DateTime {
  enum class Zone { kNone, kUtc, kOffset };

  int year = 1970;  // 0..9999
  int month = 1;    // 1..12
  int day = 1;      // 1..days in month
  int hour = 0;     // 0..23
  int minute = 0;   // 0..59
  int second = 0;   // 0..60
  Zone zone = Zone::kNone;
  int offset_minutes = 0;  // only for kOffset: -23:59..+23:59, east positive

  bool operator==(const DateTime&) const = default;

  // nullopt when `text` is not a date-time of the forms described above.
  static std::optional<DateTime> Parse(std::string_view text);
  std::string Format() const;
  // True when every field is within its range (Format of an invalid
  // DateTime still writes something; the writer refuses it).
  bool IsValid() const;
};

}  // namespace xmlrpc

#endif  // VHDSM_XMLRPC_DATETIME_H_
