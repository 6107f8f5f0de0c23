// common/json.h: what it writes parses back (through protobuf's JSON parser, an independent reader) to the same
// strings and numbers, for text that hand-written JSON gets wrong.
#include "common/json.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace gcl {
namespace {

google::protobuf::Struct Parse(const std::string& json) {
  google::protobuf::Struct parsed;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &parsed);
  EXPECT_TRUE(status.ok()) << status.ToString() << "\n" << json;
  return parsed;
}

TEST(JsonTest, AwkwardStringsRoundTrip) {
  const std::string awkward = "run \"quoted\" C:\\runs\\new\nline\ttab \x01 bell \xc3\xa9t\xc3\xa9";
  JsonObject object;
  object.String("name", awkward).String(awkward, "as a key");
  const google::protobuf::Struct parsed = Parse(object.str());
  EXPECT_EQ(parsed.fields().at("name").string_value(), awkward);
  EXPECT_EQ(parsed.fields().at(awkward).string_value(), "as a key");
  EXPECT_EQ(JsonQuote("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

TEST(JsonTest, NonFiniteNumbersAreNull) {
  EXPECT_EQ(JsonNumber(std::nan("")), "null");
  EXPECT_EQ(JsonNumber(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(JsonNumber(0.12461692), "0.12461692");
  EXPECT_EQ(JsonNumber(1.0 / 3.0, 4), "0.3333");
  const google::protobuf::Struct parsed =
      Parse(JsonObject().Number("nan", std::nan("")).Number("x", 2.5).Int("n", -7).Bool("ok", false).str());
  EXPECT_EQ(parsed.fields().at("nan").kind_case(), google::protobuf::Value::kNullValue);
  EXPECT_EQ(parsed.fields().at("x").number_value(), 2.5);
  EXPECT_EQ(parsed.fields().at("n").number_value(), -7);
  EXPECT_FALSE(parsed.fields().at("ok").bool_value());
}

TEST(JsonTest, NestedValuesOnePerLineStayValidAndIndented) {
  const std::string inner = JsonObject().String("model", "E_id \"after\" stage 1").Number("mAP", 0.5).str();
  const std::string text = JsonObject()
                               .String("run", "quick")
                               .Raw("rows", JsonArray({inner, inner}, /*one_value_per_line=*/true))
                               .Raw("empty", JsonArray({}))
                               .str(/*one_member_per_line=*/true);
  EXPECT_EQ(text.substr(0, 18), "{\n  \"run\": \"quick\"");
  EXPECT_NE(text.find("\n    {\"model\""), std::string::npos) << text;  // array items indented under their member
  const google::protobuf::Struct parsed = Parse(text);
  ASSERT_EQ(parsed.fields().at("rows").list_value().values_size(), 2);
  EXPECT_EQ(parsed.fields().at("rows").list_value().values(1).struct_value().fields().at("model").string_value(),
            "E_id \"after\" stage 1");
  EXPECT_EQ(parsed.fields().at("empty").list_value().values_size(), 0);
}

}  // namespace
}  // namespace gcl
