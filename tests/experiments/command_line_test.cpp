// Flags are parsed in one place: an unknown option lists the known ones, a numeric flag that is not an
// integer or lies outside its range names the flag, and nothing throws anything but qat::Error.
#include "experiments/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/test_util.h"

namespace qat {
namespace {

CommandLine parse(std::vector<std::string> args) {
  std::vector<char*> argv{const_cast<char*>("qat"), const_cast<char*>("train")};
  for (std::string& a : args) argv.push_back(a.data());
  return CommandLine::parse(static_cast<int>(argv.size()), argv.data(), 2, {"out", "stop-after"}, {"resume"});
}

TEST(CommandLine, ParsesPositionalsSetsValuesAndFlags) {
  const CommandLine line =
      parse({"config.pbtxt", "--set", "a=1", "--out", "dir", "--resume", "--set", "b=2"});
  EXPECT_EQ(line.positional, std::vector<std::string>{"config.pbtxt"});
  EXPECT_EQ(line.overrides, (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_EQ(line.get("out"), "dir");
  EXPECT_TRUE(line.has("resume"));
}

TEST(CommandLine, UnknownOptionListsTheKnownOnes) {
  const std::string message = test::error_of([] { parse({"c", "--stop_after", "3"}); });
  EXPECT_NE(message.find("unknown option --stop_after"), std::string::npos) << message;
  for (const char* known : {"--set", "--out VALUE", "--stop-after VALUE", "--resume"})
    EXPECT_NE(message.find(known), std::string::npos) << message;
  EXPECT_NE(test::error_of([] { parse({"c", "--out"}); }).find("--out needs a value"), std::string::npos);
}

TEST(CommandLine, IntegerFlagsNameTheFlagWhenBad) {
  for (const char* bad : {"abc", "3x", "", "1.5", "99999999999999999999999"}) {
    const std::string message = test::error_of([&] {
      parse({"c", "--stop-after", bad}).get_int("stop-after", 0);
    });
    EXPECT_NE(message.find("--stop-after: '" + std::string(bad) + "' is not an integer"), std::string::npos)
        << message;
  }
  const std::string range = test::error_of([] {
    parse({"c", "--stop-after", "0"}).get_int("stop-after", 0, 1, 9);
  });
  EXPECT_NE(range.find("--stop-after: 0 outside 1..9"), std::string::npos) << range;
  EXPECT_EQ(parse({"c", "--stop-after", "7"}).get_int("stop-after", 0, 1, 9), 7);
  EXPECT_EQ(parse({"c"}).get_int("stop-after", 4, 1, 9), 4);  // absent: the fallback, unchecked
}

}  // namespace
}  // namespace qat
