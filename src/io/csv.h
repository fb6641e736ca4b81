// CSV cells as RFC 4180 writes and reads them. Every header cell spinesim writes
// (counts.csv, ensemble tables) goes through csv_cell(), and every table it reads
// back through split_csv_record(), so a compartment or region named `a,b` or `say "x"`
// keeps its column. Names without ',' '"' or a line break are written as they are,
// so the headers of existing scenes do not change.
#pragma once

#include <string>
#include <vector>

namespace spinesim {

/// `text` as one CSV cell: quoted (with '"' doubled) only when it contains a comma, a
/// double quote, CR or LF (RFC 4180 §2.6–2.7); otherwise unchanged.
std::string csv_cell(const std::string& text);

/// Splits one CSV record (a line without its line break) into cells, undoing
/// csv_cell()'s quoting. Throws std::runtime_error on an unterminated quote or text
/// after a closing quote.
std::vector<std::string> split_csv_record(const std::string& line);

}  // namespace spinesim
