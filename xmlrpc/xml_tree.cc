#include "xmlrpc/xml_tree.h"

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include <climits>
#include <mutex>

namespace xmlrpc {

namespace {

// Everything the callbacks share for one document.
struct ReaderState {
  xmlParserCtxtPtr ctxt = nullptr;
  const Limits* limits = nullptr;
  size_t max_xml_depth = 0;
  XmlElement root;
  bool have_root = false;
  std::vector<XmlElement*> open;  // ancestors of the current position
  size_t elements = 0;
  std::string error;  // first error; non-empty means the parse failed
};

const char* Str(const xmlChar* s) { return reinterpret_cast<const char*>(s); }

void Fail(ReaderState* state, std::string message) {
  if (state->error.empty()) {
    int line = xmlSAX2GetLineNumber(state->ctxt);
    if (line > 0) message += " (line " + std::to_string(line) + ")";
    state->error = std::move(message);
  }
  xmlStopParser(state->ctxt);
}

void OnStartElement(void* ctx, const xmlChar* localname, const xmlChar* prefix,
                    const xmlChar* uri, int nb_namespaces,
                    const xmlChar** /*namespaces*/, int nb_attributes,
                    int /*nb_defaulted*/, const xmlChar** /*attributes*/) {
  auto* state = static_cast<ReaderState*>(ctx);
  if (!state->error.empty()) return;
  std::string name = Str(localname);
  if (prefix != nullptr || uri != nullptr || nb_namespaces > 0) {
    return Fail(state, "namespaces are not allowed (element <" + name + ">)");
  }
  if (nb_attributes > 0) {
    return Fail(state, "attributes are not allowed (element <" + name + ">)");
  }
  if (++state->elements > state->limits->max_elements) {
    return Fail(state, "too many elements (limit " +
                           std::to_string(state->limits->max_elements) + ")");
  }
  if (state->open.size() + 1 > state->max_xml_depth) {
    return Fail(state, "nesting too deep (limit " +
                           std::to_string(state->limits->max_value_depth) +
                           " levels of array/struct)");
  }
  XmlElement* element;
  if (state->open.empty()) {
    if (state->have_root) return Fail(state, "more than one root element");
    state->have_root = true;
    element = &state->root;
  } else {
    auto& siblings = state->open.back()->children;
    if (siblings.size() >= state->limits->max_items) {
      return Fail(state, "too many items in <" + state->open.back()->name +
                             "> (limit " +
                             std::to_string(state->limits->max_items) + ")");
    }
    siblings.emplace_back();
    element = &siblings.back();
  }
  element->name = std::move(name);
  state->open.push_back(element);
}

void OnEndElement(void* ctx, const xmlChar* /*localname*/,
                  const xmlChar* /*prefix*/, const xmlChar* /*uri*/) {
  auto* state = static_cast<ReaderState*>(ctx);
  if (!state->error.empty() || state->open.empty()) return;
  state->open.pop_back();
}

void OnCharacters(void* ctx, const xmlChar* ch, int len) {
  auto* state = static_cast<ReaderState*>(ctx);
  if (!state->error.empty() || state->open.empty()) return;
  state->open.back()->text.append(Str(ch), len);
}

void OnInternalSubset(void* ctx, const xmlChar* /*name*/,
                      const xmlChar* /*external_id*/,
                      const xmlChar* /*system_id*/) {
  Fail(static_cast<ReaderState*>(ctx), "DOCTYPE declarations are not allowed");
}

void OnEntityDecl(void* ctx, const xmlChar* /*name*/, int /*type*/,
                  const xmlChar* /*public_id*/, const xmlChar* /*system_id*/,
                  xmlChar* /*content*/) {
  Fail(static_cast<ReaderState*>(ctx), "entity declarations are not allowed");
}

void OnReference(void* ctx, const xmlChar* name) {
  Fail(static_cast<ReaderState*>(ctx),
       std::string("entity reference &") + Str(name) + "; is not allowed");
}

void OnStructuredError(void* ctx, xmlErrorPtr error) {
  auto* state = static_cast<ReaderState*>(ctx);
  if (error == nullptr || error->level < XML_ERR_ERROR) return;  // warnings
  // libxml2's messages may span lines; a fault string should not.
  std::string message;
  for (const char* p = error->message != nullptr ? error->message : "error";
       *p != '\0'; ++p) {
    char c = (*p == '\n' || *p == '\t') ? ' ' : *p;
    if (c == ' ' && (message.empty() || message.back() == ' ')) continue;
    message += c;
  }
  while (!message.empty() && message.back() == ' ') message.pop_back();
  if (state->error.empty()) {
    if (error->line > 0)
      message += " (line " + std::to_string(error->line) + ")";
    state->error = "malformed XML: " + message;
  }
}

// libxml2 may print some errors outside a parser context (e.g. on
// allocation failure); the transports own stdout/stderr, so drop them.
void IgnoreGenericError(void* /*ctx*/, const char* /*msg*/, ...) {}

xmlSAXHandler MakeHandler() {
  xmlSAXHandler sax{};
  sax.initialized = XML_SAX2_MAGIC;  // enables the *Ns callbacks and serror
  sax.startElementNs = OnStartElement;
  sax.endElementNs = OnEndElement;
  sax.characters = OnCharacters;
  sax.cdataBlock = OnCharacters;
  sax.ignorableWhitespace = OnCharacters;
  sax.internalSubset = OnInternalSubset;
  sax.externalSubset = OnInternalSubset;
  sax.entityDecl = OnEntityDecl;
  sax.reference = OnReference;
  sax.serror = OnStructuredError;
  return sax;
}

}  // namespace

Result<XmlElement> ReadXmlTree(std::string_view document,
                               const Limits& limits) {
  auto fail = [](std::string message) {
    return Fault{interop::kParseError, std::move(message)};
  };
  if (document.size() > limits.max_body_bytes) {
    return fail("document too large (" + std::to_string(document.size()) +
                " bytes, limit " + std::to_string(limits.max_body_bytes) + ")");
  }
  if (document.size() > static_cast<size_t>(INT_MAX)) {
    return fail("document too large");
  }
  if (document.empty()) return fail("empty document");

  static std::once_flag init_once;
  std::call_once(init_once, [] { xmlInitParser(); });
  xmlSetGenericErrorFunc(nullptr, IgnoreGenericError);

  static const xmlSAXHandler kHandler = MakeHandler();
  xmlSAXHandler sax = kHandler;
  ReaderState state;
  state.limits = &limits;
  state.max_xml_depth = 3 * static_cast<size_t>(limits.max_value_depth > 0
                                                    ? limits.max_value_depth
                                                    : 0) +
                        8;
  state.ctxt = xmlCreatePushParserCtxt(&sax, &state, nullptr, 0, nullptr);
  if (state.ctxt == nullptr) return fail("cannot create XML parser");
  xmlCtxtUseOptions(state.ctxt,
                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  xmlParseChunk(state.ctxt, document.data(), static_cast<int>(document.size()),
                /*terminate=*/1);
  bool well_formed = state.ctxt->wellFormed != 0;
  xmlFreeParserCtxt(state.ctxt);

  if (!state.error.empty()) return fail(std::move(state.error));
  if (!well_formed) return fail("malformed XML");
  if (!state.have_root || !state.open.empty()) {
    return fail("malformed XML: truncated document");
  }
  return std::move(state.root);
}

}  // namespace xmlrpc
