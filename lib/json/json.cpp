#include "json/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/encodedstream.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace lsm::json {

namespace {

std::string join(const std::string& path, const char* key) {
  return path.empty() ? std::string(key) : path + "." + key;
}

[[noreturn]] void wrong_type(const std::string& where, const char* want) {
  throw JsonError(where + ": expected " + want);
}

// The reader's events, passed on to the document being built until the
// nesting gets deeper than kMaxDepth.
class DepthLimited {
 public:
  explicit DepthLimited(Document& d) : d_(d) {}
  bool too_deep() const { return too_deep_; }

  bool Null() { return d_.Null(); }
  bool Bool(bool b) { return d_.Bool(b); }
  bool Int(int i) { return d_.Int(i); }
  bool Uint(unsigned i) { return d_.Uint(i); }
  bool Int64(std::int64_t i) { return d_.Int64(i); }
  bool Uint64(std::uint64_t i) { return d_.Uint64(i); }
  bool Double(double x) { return d_.Double(x); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return d_.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return d_.String(s, n, copy); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return d_.Key(s, n, copy); }
  bool StartObject() { return enter() && d_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return leave() && d_.EndObject(n); }
  bool StartArray() { return enter() && d_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return leave() && d_.EndArray(n); }

 private:
  bool enter() {
    too_deep_ = ++depth_ > kMaxDepth;
    return !too_deep_;
  }
  bool leave() {
    --depth_;
    return true;
  }

  Document& d_;
  unsigned depth_ = 0;
  bool too_deep_ = false;
};

}  // namespace

Document parse(std::string_view text, const std::string& what) {
  Document d;
  rapidjson::MemoryStream bytes(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(bytes);
  rapidjson::Reader reader;
  DepthLimited limit(d);
  rapidjson::ParseResult result;
  // Iterative: the recursive parser overflows the stack on deep input.
  // Trailing garbage after the value is a parse error without
  // kParseStopWhenDoneFlag; invalid UTF-8 is rejected too.
  auto events = [&](Document&) {
    result = reader.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
        in, limit);
    return !result.IsError();
  };
  d.Populate(events);
  if (limit.too_deep())
    throw JsonError(what + ": JSON nested deeper than " + std::to_string(kMaxDepth) +
                    " levels at byte " + std::to_string(result.Offset()) +
                    " (nothing lsm reads nests that deep: refused)");
  if (result.IsError())
    throw JsonError(what + ": not valid JSON at byte " + std::to_string(result.Offset()) + ": " +
                    rapidjson::GetParseError_En(result.Code()));
  return d;
}

std::string to_string(const Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return std::string(buf.GetString(), buf.GetSize());
}

const Value* find(const Value& obj, const char* key) {
  if (!obj.IsObject()) return nullptr;
  auto it = obj.FindMember(key);
  return it == obj.MemberEnd() ? nullptr : &it->value;
}

const Value& member(const Value& obj, const char* key, const std::string& path) {
  if (!obj.IsObject()) wrong_type(path.empty() ? "(top)" : path, "an object");
  const Value* v = find(obj, key);
  if (!v) throw JsonError(join(path, key) + ": missing");
  return *v;
}

const Value& object_at(const Value& obj, const char* key, const std::string& path) {
  const Value& v = member(obj, key, path);
  if (!v.IsObject()) wrong_type(join(path, key), "an object");
  return v;
}

const Value& array_at(const Value& obj, const char* key, const std::string& path) {
  const Value& v = member(obj, key, path);
  if (!v.IsArray()) wrong_type(join(path, key), "an array");
  return v;
}

std::string string_at(const Value& obj, const char* key, const std::string& path) {
  const Value& v = member(obj, key, path);
  if (!v.IsString()) wrong_type(join(path, key), "a string");
  return std::string(v.GetString(), v.GetStringLength());
}

std::string string_or_empty(const Value& obj, const char* key) {
  const Value* v = find(obj, key);
  // Up to a NUL, as libxl's C strings read it.
  return v && v->IsString() ? v->GetString() : "";
}

std::uint64_t u64_at(const Value& obj, const char* key, const std::string& path) {
  const Value& v = member(obj, key, path);
  if (!v.IsUint64()) wrong_type(join(path, key), "an unsigned integer");
  return v.GetUint64();
}

bool bool_at(const Value& obj, const char* key, const std::string& path) {
  const Value& v = member(obj, key, path);
  if (!v.IsBool()) wrong_type(join(path, key), "a boolean");
  return v.GetBool();
}

Value str(std::string_view s, Allocator& a) {
  return Value(s.data(), static_cast<rapidjson::SizeType>(s.size()), a);
}

void add(Value& obj, const char* key, Value v, Allocator& a) {
  obj.AddMember(Value(key, a), v, a);
}
void add(Value& obj, const char* key, std::string_view s, Allocator& a) {
  add(obj, key, str(s, a), a);
}
void add(Value& obj, const char* key, const char* s, Allocator& a) {
  add(obj, key, str(s, a), a);
}
void add(Value& obj, const char* key, std::uint64_t n, Allocator& a) {
  add(obj, key, Value(n), a);
}
void add(Value& obj, const char* key, int n, Allocator& a) {
  add(obj, key, Value(n), a);
}
void add(Value& obj, const char* key, bool b, Allocator& a) {
  add(obj, key, Value(b), a);
}

}  // namespace lsm::json
