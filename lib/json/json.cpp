#include "json/json.hpp"

#include <rapidjson/error/en.h>
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

}  // namespace

Document parse(std::string_view text, const std::string& what) {
  Document d;
  // Trailing garbage after the value is a parse error without
  // kParseStopWhenDoneFlag; invalid UTF-8 is rejected too.
  d.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
  if (d.HasParseError())
    throw JsonError(what + ": not valid JSON at byte " +
                    std::to_string(d.GetErrorOffset()) + ": " +
                    rapidjson::GetParseError_En(d.GetParseError()));
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
