#include "xmlrpc/xml_tree.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "tests/util/status_matchers.h"

namespace xmlrpc {
namespace {

Result<XmlElement> Read(std::string_view doc, Limits limits = Limits()) {
  return ReadXmlTree(doc, limits);
}

std::string ErrorOf(std::string_view doc, Limits limits = Limits()) {
  Result<XmlElement> r = Read(doc, limits);
  if (r.ok()) return "(parsed)";
  EXPECT_EQ(r.fault().code, interop::kParseError);
  return r.fault().message;
}

TEST(XmlTreeTest, BuildsElementsAndText) {
  auto r = Read("<a> x <b>1</b><c/>y&lt;&#65;&amp;</a>");
  ASSERT_OK(r) << r.fault().message;
  const XmlElement& a = r.value();
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.text, " x y<A&");
  ASSERT_EQ(a.children.size(), 2u);
  EXPECT_EQ(a.children[0].name, "b");
  EXPECT_EQ(a.children[0].text, "1");
  EXPECT_EQ(a.children[1].name, "c");
  EXPECT_TRUE(a.children[1].children.empty());
}

TEST(XmlTreeTest, SkipsDeclarationCommentsAndPIsAndKeepsCdata) {
  auto r = Read(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?><!-- c --><a><?pi x?>"
      "<![CDATA[<raw & text>]]><!-- d --></a>");
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value().text, "<raw & text>");
  EXPECT_TRUE(r.value().children.empty());
}

TEST(XmlTreeTest, ConvertsDeclaredEncodingToUtf8) {
  auto r = Read("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a>\xe9</a>");
  ASSERT_OK(r) << r.fault().message;
  EXPECT_EQ(r.value().text, "\xc3\xa9");
}

TEST(XmlTreeTest, RejectsAnyDoctype) {
  EXPECT_NE(ErrorOf("<!DOCTYPE a><a/>").find("DOCTYPE"), std::string::npos);
  EXPECT_NE(ErrorOf("<!DOCTYPE a SYSTEM \"http://example.invalid/a.dtd\"><a/>")
                .find("DOCTYPE"),
            std::string::npos);
}

TEST(XmlTreeTest, BillionLaughsIsRefusedAtOnce) {
  std::string bomb =
      "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">";
  std::string prev = "lol";
  for (int i = 1; i <= 9; ++i) {
    std::string name = "lol" + std::to_string(i);
    bomb += "<!ENTITY " + name + " \"";
    for (int j = 0; j < 10; ++j) bomb += "&" + prev + ";";
    bomb += "\">";
    prev = name;
  }
  bomb += "]><lolz>&lol9;</lolz>";
  auto start = std::chrono::steady_clock::now();
  std::string error = ErrorOf(bomb);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_NE(error.find("DOCTYPE"), std::string::npos) << error;
  EXPECT_LT(elapsed, std::chrono::seconds(2));
}

TEST(XmlTreeTest, ExternalEntityIsNeverResolved) {
  std::string error = ErrorOf(
      "<!DOCTYPE a [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><a>&xxe;</a>");
  EXPECT_NE(error.find("DOCTYPE"), std::string::npos);
  EXPECT_EQ(error.find("root:"), std::string::npos);
  // Without a DOCTYPE an entity is simply undefined.
  error = ErrorOf("<a>&xxe;</a>");
  EXPECT_NE(error.find("xxe"), std::string::npos) << error;
  // Parameter entities and external DTDs likewise.
  error = ErrorOf(
      "<!DOCTYPE a [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]><a/>");
  EXPECT_EQ(error.find("root:"), std::string::npos);
}

TEST(XmlTreeTest, RejectsAttributesAndNamespaces) {
  EXPECT_NE(ErrorOf("<a x=\"1\"/>").find("attributes"), std::string::npos);
  EXPECT_NE(ErrorOf("<a xmlns=\"urn:x\"/>").find("namespaces"),
            std::string::npos);
  EXPECT_NE(ErrorOf("<a xmlns:ex=\"urn:x\"><ex:nil/></a>").find("namespaces"),
            std::string::npos);
  // An undeclared prefix: libxml2 itself objects first.
  EXPECT_NE(ErrorOf("<a><ex:nil/></a>").find("amespace"), std::string::npos);
}

TEST(XmlTreeTest, EnforcesBodySizeExactly) {
  Limits limits;
  limits.max_body_bytes = 12;
  EXPECT_OK(Read("<a>12345</a>", limits));                       // 12 bytes
  EXPECT_NE(ErrorOf("<a>123456</a>", limits).find("too large"),  // 13 bytes
            std::string::npos);
}

TEST(XmlTreeTest, EnforcesElementCount) {
  Limits limits;
  limits.max_elements = 3;
  EXPECT_OK(Read("<a><b/><c/></a>", limits));
  EXPECT_NE(ErrorOf("<a><b/><c/><d/></a>", limits).find("too many elements"),
            std::string::npos);
}

TEST(XmlTreeTest, EnforcesChildrenPerElement) {
  Limits limits;
  limits.max_items = 2;
  EXPECT_OK(Read("<a><b/><b/></a>", limits));
  EXPECT_NE(ErrorOf("<a><b/><b/><b/></a>", limits).find("too many items"),
            std::string::npos);
}

TEST(XmlTreeTest, EnforcesDepthBeforeLibxml2Would) {
  Limits limits;
  limits.max_value_depth = 1;  // 3 * 1 + 8 = 11 elements deep
  std::string ok, deep;
  for (int i = 0; i < 11; ++i) ok += "<a>";
  for (int i = 0; i < 11; ++i) ok += "</a>";
  for (int i = 0; i < 12; ++i) deep += "<a>";
  for (int i = 0; i < 12; ++i) deep += "</a>";
  EXPECT_OK(Read(ok, limits));
  EXPECT_NE(ErrorOf(deep, limits).find("nesting too deep"), std::string::npos);
}

TEST(XmlTreeTest, HundredThousandDeepIsRefusedQuickly) {
  std::string doc;
  for (int i = 0; i < 100000; ++i) doc += "<v>";
  for (int i = 0; i < 100000; ++i) doc += "</v>";
  auto start = std::chrono::steady_clock::now();
  EXPECT_NE(ErrorOf(doc).find("nesting too deep"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST(XmlTreeTest, MalformedInputsAreErrors) {
  for (const char* bad : {"", "   ", "<a>", "<a></b>", "<a/><b/>", "text",
                          "<a>\xff</a>", "<a>\xc3</a>", "<a>&#0;</a>",
                          "<a>&#xD800;</a>", "<a><</a>", "<a/>trailing"}) {
    Result<XmlElement> r = Read(bad);
    EXPECT_FALSE(r.ok()) << bad;
  }
  // NUL bytes inside the document.
  EXPECT_FALSE(Read(std::string("<a>\0</a>", 8)).ok());
}

TEST(XmlTreeTest, ErrorMessagesAreOneLine) {
  std::string error = ErrorOf("<a>\xff\xfe</a>");
  EXPECT_EQ(error.find('\n'), std::string::npos) << error;
  EXPECT_NE(error.find("UTF-8"), std::string::npos) << error;
}

}  // namespace
}  // namespace xmlrpc
