// Hostile requests through Dispatcher::Handle, the path both transports
// share: each gets a parse-error fault quickly, nothing leaks from the
// filesystem, and the dispatcher keeps working.
#include <gtest/gtest.h>

#include <ctime>
#include <fstream>
#include <sstream>

#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"
#include "xmlrpc/dispatcher.h"
#include "xmlrpc/parser.h"

namespace xmlrpc {
namespace {

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec / 1e9;
}

class HostileInputTest : public ::testing::Test {
 protected:
  HostileInputTest() {
    d_.Register("echo", [](const Params& p) -> Response { return p.At(0); });
  }

  // Asserts a parse-error fault, refused cheaply; returns its message.
  // Cheaply is this thread's CPU time, which a loaded machine does not
  // inflate (wall-clock time it does): well under a second even under
  // sanitizers, while an input that made the parser expand or recurse out
  // of bounds would take minutes.
  std::string Refused(const std::string& request) {
    double start = ThreadCpuSeconds();
    std::string out = d_.Handle(request);
    EXPECT_LT(ThreadCpuSeconds() - start, 5.0);
    Result<Response> r = ParseMethodResponse(out);
    EXPECT_OK(r) << out;
    if (!r.ok()) return "";
    EXPECT_FALSE(r.value().ok());
    if (r.value().ok()) return "";
    EXPECT_EQ(r.value().fault().code, 143) << r.value().fault().message;
    last_output_ = out;
    return r.value().fault().message;
  }

  void ExpectStillServing() {
    std::string out = d_.Handle(xmlrpc_test::Call(
        "echo", xmlrpc_test::Param("<value>still here</value>")));
    EXPECT_EQ(out,
              "<methodResponse><params><param><value>still here</value>"
              "</param></params></methodResponse>");
  }

  Dispatcher d_;
  std::string last_output_;
};

TEST_F(HostileInputTest, BillionLaughs) {
  std::string bomb =
      "<?xml version=\"1.0\"?><!DOCTYPE methodCall [<!ENTITY a \"aaaaaaaaaa\">";
  std::string prev = "a";
  for (char c = 'b'; c <= 'k'; ++c) {
    bomb += std::string("<!ENTITY ") + c + " \"";
    for (int j = 0; j < 10; ++j) bomb += "&" + prev + ";";
    bomb += "\">";
    prev = std::string(1, c);
  }
  bomb +=
      "]><methodCall><methodName>echo</methodName><params><param><value>"
      "&k;</value></param></params></methodCall>";
  EXPECT_NE(Refused(bomb).find("DOCTYPE"), std::string::npos);
  EXPECT_LT(last_output_.size(), 1000u);
  ExpectStillServing();
}

TEST_F(HostileInputTest, ExternalEntityToLocalFile) {
  std::ifstream passwd("/etc/passwd");
  std::stringstream content;
  content << passwd.rdbuf();
  std::string first_line = content.str().substr(0, content.str().find('\n'));
  ASSERT_FALSE(first_line.empty());
  for (const std::string& request : {
           std::string("<?xml version=\"1.0\"?><!DOCTYPE m [<!ENTITY x SYSTEM "
                       "\"file:///etc/passwd\">]><methodCall><methodName>echo"
                       "</methodName><params><param><value>&x;</value></param>"
                       "</params></methodCall>"),
           std::string("<!DOCTYPE m SYSTEM \"file:///etc/passwd\"><methodCall>"
                       "<methodName>echo</methodName></methodCall>"),
           std::string("<!DOCTYPE m [<!ENTITY % p SYSTEM \"file:///etc/passwd"
                       "\">%p;]><methodCall><methodName>echo</methodName>"
                       "</methodCall>"),
           std::string("<methodCall><methodName>echo</methodName><params>"
                       "<param><value>&x;</value></param></params>"
                       "</methodCall>"),
           std::string(
               "<methodCall xmlns:xi=\"http://www.w3.org/2001/XInclude"
               "\"><methodName>echo</methodName><params><param><value>"
               "<xi:include href=\"file:///etc/passwd\" parse=\"text\"/>"
               "</value></param></params></methodCall>"),
       }) {
    Refused(request);
    EXPECT_EQ(last_output_.find(first_line), std::string::npos);
    EXPECT_EQ(last_output_.find("root:"), std::string::npos);
  }
  ExpectStillServing();
}

TEST_F(HostileInputTest, HundredThousandDeepNesting) {
  std::string deep = "<methodCall><methodName>echo</methodName><params><param>";
  for (int i = 0; i < 100000; ++i) deep += "<value><array><data>";
  for (int i = 0; i < 100000; ++i) deep += "</data></array></value>";
  deep += "</param></params></methodCall>";
  EXPECT_NE(Refused(deep).find("too deep"), std::string::npos);
  std::string structs =
      "<methodCall><methodName>echo</methodName><params><param>";
  for (int i = 0; i < 100000; ++i)
    structs += "<value><struct><member><name>a</name>";
  EXPECT_NE(Refused(structs), "");
  ExpectStillServing();
}

TEST_F(HostileInputTest, OversizedBody) {
  std::string big = xmlrpc_test::Call(
      "echo",
      xmlrpc_test::Param("<value>" + std::string(9 << 20, 'x') + "</value>"));
  EXPECT_NE(Refused(big).find("too large"), std::string::npos);
  ExpectStillServing();
}

TEST_F(HostileInputTest, ManyElements) {
  std::string wide =
      "<methodCall><methodName>echo</methodName><params><param>"
      "<value><array><data>";
  for (int i = 0; i < 200000; ++i) wide += "<value/>";
  wide += "</data></array></value></param></params></methodCall>";
  EXPECT_NE(Refused(wide).find("too many"), std::string::npos);
  ExpectStillServing();
}

TEST_F(HostileInputTest, InvalidUtf8) {
  for (const char* bytes : {"\xff", "\xc3\x28", "\xed\xa0\x80",
                            "\xf8\x88\x80\x80\x80", "\xc0\xaf"}) {
    Refused(xmlrpc_test::Call(
        "echo",
        xmlrpc_test::Param(std::string("<value>") + bytes + "</value>")));
  }
  Refused(std::string(
      "<methodCall><methodName>echo</methodName>\0</methodCall>", 56));
  ExpectStillServing();
}

TEST_F(HostileInputTest, TruncatedDocuments) {
  std::string full = xmlrpc_test::Call(
      "echo", xmlrpc_test::Param("<value><struct><member><name>a</name><value>"
                                 "<int>1</int></value></member></struct>"
                                 "</value>"));
  for (size_t n = 0; n < full.size(); n += 7) Refused(full.substr(0, n));
  Refused(full.substr(0, full.size() - 1));
  ExpectStillServing();
}

TEST_F(HostileInputTest, WrongRootElement) {
  for (const char* doc :
       {"<methodResponse><params><param><value>x</value></param></params>"
        "</methodResponse>",
        "<html><body>hi</body></html>",
        "<methodcall><methodName>echo"
        "</methodName></methodcall>",
        "<value>x</value>"}) {
    Refused(doc);
  }
  ExpectStillServing();
}

TEST_F(HostileInputTest, NotXmlAtAll) {
  for (const char* doc : {"", " ", "null", "{\"method\": \"echo\"}",
                          "\xef\xbb\xbf", "GET / HTTP/1.1"}) {
    Refused(doc);
  }
  ExpectStillServing();
}

}  // namespace
}  // namespace xmlrpc
