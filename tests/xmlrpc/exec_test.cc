#include "xmlrpc/exec.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "base/log.h"
#include "tests/util/status_matchers.h"
#include "tests/xmlrpc/test_util.h"
#include "xmlrpc/parser.h"

namespace xmlrpc {
namespace {

using xmlrpc_test::Call;
using xmlrpc_test::Param;

class ExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base::SetLogSinkForTesting(
        [this](int, std::string_view m) { log_.push_back(std::string(m)); });
    d_.Register("echo", [](const Params& p) -> Response { return p.At(0); });
    d_.Register("nil", [](const Params&) -> Response { return Value(); });
  }
  void TearDown() override { base::SetLogSinkForTesting(nullptr); }

  Response Parse(const std::string& out) {
    Result<Response> r = ParseMethodResponse(out);
    EXPECT_OK(r) << out;
    return r.ok() ? r.value() : Response(Fault{0, ""});
  }

  // Runs with stdin fed from `input` by a writer thread (which stops at
  // EPIPE when the reader gives up early). Returns the response.
  std::string WithStdin(const std::string& input, size_t* written = nullptr) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    std::atomic<size_t> done{0};
    std::thread writer([&] {
      signal(SIGPIPE, SIG_IGN);
      size_t off = 0;
      while (off < input.size()) {
        ssize_t n = write(fds[1], input.data() + off,
                          std::min<size_t>(65536, input.size() - off));
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      done = off;
      close(fds[1]);
    });
    const char* argv[] = {"driver"};
    std::string out = HandleExecInvocation(d_, 1, argv, fds[0]);
    close(fds[0]);  // the writer sees EPIPE if it is still writing
    writer.join();
    if (written != nullptr) *written = done;
    return out;
  }

  Dispatcher d_;
  std::vector<std::string> log_;
};

TEST_F(ExecTest, RequestFromArgv) {
  std::string request = Call("echo", Param("<value>hi</value>"));
  const char* argv[] = {"VHDSR", request.c_str()};
  EXPECT_EQ(HandleExecInvocation(d_, 2, argv),
            "<methodResponse><params><param><value>hi</value></param>"
            "</params></methodResponse>");
  EXPECT_TRUE(log_.empty());  // success is logged at LOG_DEBUG only
}

TEST_F(ExecTest, ArgvOfXapisMaximumSize) {
  // MAX_ARG_STRLEN is 128 KiB including the NUL.
  std::string prefix =
      "<methodCall><methodName>echo</methodName><params>"
      "<param><value>";
  std::string suffix = "</value></param></params></methodCall>";
  std::string payload(131071 - prefix.size() - suffix.size(), 'x');
  std::string request = prefix + payload + suffix;
  ASSERT_EQ(request.size(), 131071u);
  const char* argv[] = {"VHDSR", request.c_str()};
  Response r = Parse(HandleExecInvocation(d_, 2, argv));
  ASSERT_OK(r);
  EXPECT_EQ(r.value(), Value(payload));
}

TEST_F(ExecTest, RequestFromStdin) {
  Response r =
      Parse(WithStdin(Call("echo", Param("<value><int>9</int></value>"))));
  ASSERT_OK(r);
  EXPECT_EQ(r.value(), Value(9));
}

TEST_F(ExecTest, HugeStdinIsRefusedAfterTheLimit) {
  Dispatcher::Options options;
  options.limits.max_body_bytes = 1 << 20;
  d_ = Dispatcher(options);
  std::string huge(64 << 20, ' ');  // 64 MiB of whitespace
  size_t written = 0;
  Response r = Parse(WithStdin(huge, &written));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_NE(r.fault().message.find("larger than"), std::string::npos);
  EXPECT_LT(written, size_t{8} << 20);  // the rest was never read
  ASSERT_FALSE(log_.empty());
  EXPECT_NE(log_.back().find("request refused"), std::string::npos);
}

TEST_F(ExecTest, WrongArgumentCountIsBadRequest) {
  const char* argv[] = {"VHDSR", "<a/>", "extra"};
  Response r = Parse(HandleExecInvocation(d_, 3, argv));
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_NE(r.fault().message.find("2 arguments"), std::string::npos);
}

TEST_F(ExecTest, FaultsAreLogged) {
  const char* argv[] = {"VHDSR",
                        "<methodCall><methodName>nope</methodName>"
                        "</methodCall>"};
  Response r = Parse(HandleExecInvocation(d_, 2, argv));
  EXPECT_EQ(r.fault().code, 38);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("nope: fault 38"), std::string::npos) << log_[0];
}

TEST_F(ExecTest, RunExecMainPrintsExactlyTheResponseAndReturnsZero) {
  std::string request = Call("nil", "");
  const char* argv[] = {"VHDSR", request.c_str()};
  testing::internal::CaptureStdout();
  int status = RunExecMain(d_, 2, argv);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out,
            "<methodResponse><params><param><value><nil/></value></param>"
            "</params></methodResponse>");

  const char* bad[] = {"VHDSR", "not xml"};
  testing::internal::CaptureStdout();
  status = RunExecMain(d_, 2, bad);
  out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 0);  // faults exit 0 too
  EXPECT_EQ(Parse(out).fault().code, 143);
}

// The transport with any handler (VHDSR's answers through libvhdsm's ABI).
class ExecHandlerTest : public ExecTest {
 protected:
  ExecHandler Recording() {
    return [this](std::string_view request) {
      seen_.emplace_back(request);
      return std::string("<methodResponse>answer</methodResponse>");
    };
  }
  // `input` on a pipe that holds all of it (small inputs only).
  int StdinWith(const std::string& input) {
    int fds[2];
    EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
    EXPECT_EQ(write(fds[1], input.data(), input.size()),
              static_cast<ssize_t>(input.size()));
    close(fds[1]);
    return fds[0];
  }
  std::vector<std::string> seen_;
};

TEST_F(ExecHandlerTest, HandlerGetsTheRequestAndItsAnswerIsTheResponse) {
  const char* argv[] = {"VHDSR", "<methodCall>argv</methodCall>"};
  EXPECT_EQ(HandleExecInvocation(Recording(), {}, 2, argv),
            "<methodResponse>answer</methodResponse>");
  int fd = StdinWith("<methodCall>stdin</methodCall>");
  EXPECT_EQ(HandleExecInvocation(Recording(), {}, 1, argv, fd),
            "<methodResponse>answer</methodResponse>");
  close(fd);
  EXPECT_EQ(seen_,
            (std::vector<std::string>{"<methodCall>argv</methodCall>",
                                      "<methodCall>stdin</methodCall>"}));
}

TEST_F(ExecHandlerTest, RefusalsNeverReachTheHandlerAndUseTheOptions) {
  ExecOptions options;
  options.parse_error = {7, "Bad call"};
  options.max_request_bytes = 8;
  const char* three[] = {"VHDSR", "a", "b"};
  Response r = Parse(HandleExecInvocation(Recording(), options, 3, three));
  EXPECT_EQ(r.fault().code, 7);
  EXPECT_EQ(r.fault().message.rfind("Bad call [opterr=expected", 0), 0u)
      << r.fault().message;

  const char* big[] = {"VHDSR", "123456789"};
  r = Parse(HandleExecInvocation(Recording(), options, 2, big));
  EXPECT_EQ(r.fault().code, 7);
  EXPECT_NE(r.fault().message.find("larger than 8 bytes"), std::string::npos);

  int fd = StdinWith("123456789");
  r = Parse(HandleExecInvocation(Recording(), options, 1, big, fd));
  close(fd);
  EXPECT_EQ(r.fault().code, 7);

  const char* exact[] = {"VHDSR", "12345678"};  // the limit itself passes
  HandleExecInvocation(Recording(), options, 2, exact);
  EXPECT_EQ(seen_, std::vector<std::string>{"12345678"});
  EXPECT_EQ(log_.size(), 3u);  // each refusal logged once
}

TEST_F(ExecHandlerTest, UnreadableStdinIsRefused) {
  const char* argv[] = {"VHDSR"};
  Response r = Parse(HandleExecInvocation(Recording(), {}, 1, argv, -1));
  EXPECT_EQ(r.fault().code, 143);
  EXPECT_NE(r.fault().message.find("cannot read stdin"), std::string::npos);
  EXPECT_TRUE(seen_.empty());
}

TEST_F(ExecHandlerTest, RunExecMainWritesTheHandlersAnswer) {
  const char* argv[] = {"VHDSR", "x"};
  testing::internal::CaptureStdout();
  int status = RunExecMain(Recording(), {}, 2, argv);
  std::string out = testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "<methodResponse>answer</methodResponse>");
}

TEST_F(ExecHandlerTest, WriteExecResponseSaysWhenStdoutIsGone) {
  int saved = dup(STDOUT_FILENO);
  ASSERT_GE(saved, 0);
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  close(fds[0]);  // no reader: EPIPE
  signal(SIGPIPE, SIG_IGN);
  ASSERT_GE(dup2(fds[1], STDOUT_FILENO), 0);
  bool ok = WriteExecResponse("<methodResponse/>");
  dup2(saved, STDOUT_FILENO);
  close(saved);
  close(fds[1]);
  EXPECT_FALSE(ok);
  ASSERT_EQ(log_.size(), 1u);
  EXPECT_NE(log_[0].find("cannot write the response"), std::string::npos);
}

}  // namespace
}  // namespace xmlrpc
