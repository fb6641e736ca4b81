// CSV cells (RFC 4180): what csv_cell() quotes, that split_csv_record() reads every
// quoted cell back, that plain names stay byte-for-byte as before, and the sweep cap.
#include "io/csv.h"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/error.h"
#include "io/sweep.h"

using namespace spinesim;

TEST_CASE("csv_cell quotes only what RFC 4180 requires") {
  CHECK(csv_cell("A@cytosol") == "A@cytosol");
  CHECK(csv_cell("crossed_in:glutamate@psd") == "crossed_in:glutamate@psd");
  CHECK(csv_cell("plain name") == "plain name");
  CHECK(csv_cell("") == "");
  CHECK(csv_cell("a,b") == "\"a,b\"");
  CHECK(csv_cell("say \"x\"") == "\"say \"\"x\"\"\"");
  CHECK(csv_cell("\"") == "\"\"\"\"");
  CHECK(csv_cell("line\nbreak") == "\"line\nbreak\"");
  CHECK(csv_cell("cr\rhere") == "\"cr\rhere\"");
}

TEST_CASE("split_csv_record reads back every cell csv_cell writes") {
  const std::vector<std::string> names = {
      "time_s", "A@cyto,sol", "A@extra\"cellular\"", "M@psd, \"core\"", "", ",", "\"\"", "x", "a\"\"b", " spaced "};
  std::string line;
  for (const auto& n : names) line += (line.empty() ? "" : ",") + csv_cell(n);
  CHECK(split_csv_record(line) == names);
  CHECK(split_csv_record("1,2,3") == std::vector<std::string>{"1", "2", "3"});
  CHECK(split_csv_record("") == std::vector<std::string>{""});
  CHECK(split_csv_record("a,") == std::vector<std::string>{"a", ""});
  CHECK_THROWS_AS(split_csv_record("\"open"), std::runtime_error);
  CHECK_THROWS_AS(split_csv_record("\"a\"b,c"), std::runtime_error);
}

TEST_CASE("sweeps are capped before their points are made") {
  auto axis = [](const char* path, int n) {
    SweepAxis a{path, {}};
    for (int i = 1; i <= n; ++i) a.values.push_back(std::to_string(i));
    return a;
  };
  CHECK(sweep_points({axis("release[0].count", 10), axis("simulation.seed", 10)}).size() == 100);
  try {
    (void)sweep_points({axis("release[0].count", 1000), axis("simulation.seed", 1001)});
    FAIL("1,001,000 points accepted");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("the sweep has 1.001e+06 points (1000 × 1001), more than 1000000") !=
          std::string::npos);
  }
  // Ten axes of ten values: 10¹⁰ points, refused without allocating them.
  std::vector<SweepAxis> axes;
  for (int i = 0; i < 10; ++i) axes.push_back(axis("simulation.seed", 10));
  CHECK_THROWS_AS((void)sweep_points(axes), InputError);
}
