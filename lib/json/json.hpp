// RapidJSON helpers that throw with the JSON path of what was wrong
// ("return[2].inserted.file"), so a bad reply names its culprit.
#pragma once

#include <rapidjson/document.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace lsm::json {

using Value = rapidjson::Value;
using Document = rapidjson::Document;
using Allocator = rapidjson::Document::AllocatorType;

// The input was not JSON, or not the JSON shape we need.
class JsonError : public Error {
 public:
  using Error::Error;
};

// Deepest nesting parse accepts. Our own code and RapidJSON's writer walk
// documents recursively, so depth must be bounded before they see one;
// real QMP replies and lsm messages nest a dozen levels at most.
inline constexpr unsigned kMaxDepth = 128;

// Parses without recursion; input nested deeper than kMaxDepth is refused.
Document parse(std::string_view text, const std::string& what);
std::string to_string(const Value& v);

// Member lookups; `path` names the object for error messages.
const Value* find(const Value& obj, const char* key);
const Value& member(const Value& obj, const char* key, const std::string& path);
const Value& object_at(const Value& obj, const char* key, const std::string& path);
const Value& array_at(const Value& obj, const char* key, const std::string& path);
std::string string_at(const Value& obj, const char* key, const std::string& path);
std::uint64_t u64_at(const Value& obj, const char* key, const std::string& path);
bool bool_at(const Value& obj, const char* key, const std::string& path);
// A string member up to its first NUL, or "" when it is absent, null or not
// a string (libxl's JSON leaves unset members out).
std::string string_or_empty(const Value& obj, const char* key);

// Builders that keep call sites short.
Value str(std::string_view s, Allocator& a);
void add(Value& obj, const char* key, Value v, Allocator& a);
void add(Value& obj, const char* key, std::string_view s, Allocator& a);
void add(Value& obj, const char* key, const char* s, Allocator& a);
void add(Value& obj, const char* key, std::uint64_t n, Allocator& a);
void add(Value& obj, const char* key, int n, Allocator& a);
void add(Value& obj, const char* key, bool b, Allocator& a);

}  // namespace lsm::json
