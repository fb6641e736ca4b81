// spinesim_scene_doc: renders the scene schema's comments as Markdown
// (docs/scene-format.md), so the format reference is generated from
// src/io/schema/scene.proto and cannot drift from it.
//
// Usage: spinesim_scene_doc DESCRIPTOR_SET OUT.md
//
// DESCRIPTOR_SET is a google.protobuf.FileDescriptorSet written by
//   protoc --include_source_info --include_imports --descriptor_set_out=...
// (source info carries the comments). The last file in the set is documented:
// with --include_imports protoc lists dependencies first, so the last one is
// the file named on its command line. Output depends only on the input bytes
// (no dates, no paths of the build machine), so the docs_up_to_date test can
// compare it byte for byte.
#include <google/protobuf/descriptor.pb.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/atomic_file.h"
#include "core/error.h"

namespace spinesim {
namespace {

namespace pb = google::protobuf;

// Field numbers inside descriptor.proto, used to build SourceCodeInfo paths.
constexpr int kFileMessageType = 4;
constexpr int kFileEnumType = 5;
constexpr int kFileSyntax = 12;
constexpr int kMessageField = 2;
constexpr int kMessageNestedType = 3;
constexpr int kMessageEnumType = 4;
constexpr int kMessageOneofDecl = 8;
constexpr int kEnumValue = 2;

using Path = std::vector<int>;

/// Comments of one schema element, looked up by its SourceCodeInfo path.
class Comments {
 public:
  explicit Comments(const pb::FileDescriptorProto& file) {
    for (const auto& loc : file.source_code_info().location())
      by_path_.emplace(Path(loc.path().begin(), loc.path().end()), &loc);
  }
  /// Leading comment, then trailing comment; empty if there is none.
  std::string of(const Path& path) const {
    auto it = by_path_.find(path);
    if (it == by_path_.end()) return {};
    std::string text = it->second->leading_comments();
    if (!it->second->trailing_comments().empty()) {
      if (!text.empty()) text += "\n";
      text += it->second->trailing_comments();
    }
    return text;
  }
  /// First line of the element's span, to restore declaration order between
  /// messages and enums (the descriptor keeps them in separate lists).
  int line_of(const Path& path) const {
    auto it = by_path_.find(path);
    return it == by_path_.end() || it->second->span_size() == 0 ? 0 : it->second->span(0);
  }

 private:
  std::map<Path, const pb::SourceCodeInfo::Location*> by_path_;
};

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(trim(line));
  return lines;
}

/// Comment lines joined with spaces; blank comment lines separate paragraphs.
std::string as_paragraphs(const std::string& comment) {
  std::string out, para;
  auto flush = [&] {
    if (para.empty()) return;
    if (!out.empty()) out += "\n\n";
    out += para;
    para.clear();
  };
  for (const auto& line : split_lines(comment)) {
    if (line.empty()) {
      flush();
    } else {
      if (!para.empty()) para += ' ';
      para += line;
    }
  }
  flush();
  return out;
}

/// A table cell: one line, and no '|' that would end the cell early or '<'
/// that Markdown would read as HTML.
std::string as_cell(const std::string& comment) {
  std::string joined;
  for (const auto& line : split_lines(comment)) {
    if (line.empty()) continue;
    if (!joined.empty()) joined += ' ';
    joined += line;
  }
  std::string out;
  for (char c : joined) {
    if (c == '|')
      out += "\\|";
    else if (c == '<')
      out += "&lt;";
    else
      out += c;
  }
  return out;
}

/// GitHub's heading anchor: lower case, spaces to '-', other punctuation dropped.
std::string github_slug(const std::string& heading) {
  std::string slug;
  for (unsigned char c : heading) {
    if (std::isalnum(c))
      slug += static_cast<char>(std::tolower(c));
    else if (c == '-' || c == '_')
      slug += static_cast<char>(c);
    else if (c == ' ')
      slug += '-';
  }
  return slug;
}

std::string scalar_type_name(pb::FieldDescriptorProto::Type type) {
  using F = pb::FieldDescriptorProto;
  switch (type) {
    case F::TYPE_DOUBLE:
      return "double";
    case F::TYPE_FLOAT:
      return "float";
    case F::TYPE_INT64:
      return "int64";
    case F::TYPE_UINT64:
      return "uint64";
    case F::TYPE_INT32:
      return "int32";
    case F::TYPE_FIXED64:
      return "fixed64";
    case F::TYPE_FIXED32:
      return "fixed32";
    case F::TYPE_BOOL:
      return "bool";
    case F::TYPE_STRING:
      return "string";
    case F::TYPE_BYTES:
      return "bytes";
    case F::TYPE_UINT32:
      return "uint32";
    case F::TYPE_SFIXED32:
      return "sfixed32";
    case F::TYPE_SFIXED64:
      return "sfixed64";
    case F::TYPE_SINT32:
      return "sint32";
    case F::TYPE_SINT64:
      return "sint64";
    case F::TYPE_GROUP:
      return "group";
    case F::TYPE_MESSAGE:
      return "message";
    case F::TYPE_ENUM:
      return "enum";
  }
  return "unknown";
}

/// A message or enum of the documented file, in the order its sections appear.
struct Section {
  enum class Kind { message, enumeration } kind;
  std::string name;  ///< relative to the package, e.g. "Species.Kind"
  Path path;
  const pb::DescriptorProto* message = nullptr;
  const pb::EnumDescriptorProto* enumeration = nullptr;
};

class Renderer {
 public:
  Renderer(const pb::FileDescriptorSet& set, const pb::FileDescriptorProto& file) : file_(file), comments_(file) {
    // Index enums of every file in the set: a field's zero value may come
    // from an imported enum.
    for (const auto& f : set.file()) {
      const std::string prefix = f.package().empty() ? "" : "." + f.package();
      for (const auto& e : f.enum_type()) enums_[prefix + "." + e.name()] = &e;
      for (const auto& m : f.message_type()) index_enums(prefix + "." + m.name(), m);
    }
    package_prefix_ = file.package().empty() ? "." : "." + file.package() + ".";
    collect_top_level();
  }

  std::string render() const {
    std::ostringstream out;
    out << "# Scene file format\n\n"
        << "<!-- Generated by spinesim_scene_doc from " << file_.name()
        << ". Do not edit: change the schema's comments,\n"
        << "     then run `cmake --build build/release --target scene_docs`. -->\n\n";
    out << "A scene file describes one simulation. It is written in "
        << "[protobuf text format](https://protobuf.dev/reference/protobuf/textformat-spec/) "
        << "against the schema [`" << file_.name() << "`](../" << file_.name() << ")";
    if (!sections_.empty())
      out << "; its top-level message is [" << sections_.front().name << "](#" << github_slug(sections_.front().name)
          << ")";
    out << ". Every quantity carries its unit in its field name (`_um`: µm, `_s`: s, "
        << "`_um2_per_s`: µm²/s); counts are numbers of molecules. "
        << "Example scenes are in [scenes/](../scenes/).\n\n";
    const std::string file_comment = as_paragraphs(comments_.of({kFileSyntax}));
    if (!file_comment.empty()) out << "From the schema:\n\n" << quote(file_comment) << "\n";

    out << "## Contents\n\n";
    for (const auto& s : sections_)
      out << "- [" << s.name << "](#" << github_slug(s.name) << ")"
          << (s.kind == Section::Kind::enumeration ? " (enum)" : "") << "\n";
    out << "\n";

    for (const auto& s : sections_) {
      if (s.kind == Section::Kind::message)
        render_message(out, s);
      else
        render_enum(out, s);
    }
    std::string text = out.str();
    while (text.size() >= 2 && text[text.size() - 1] == '\n' && text[text.size() - 2] == '\n') text.pop_back();
    return text;
  }

 private:
  void index_enums(const std::string& full_name, const pb::DescriptorProto& m) {
    for (const auto& e : m.enum_type()) enums_[full_name + "." + e.name()] = &e;
    for (const auto& n : m.nested_type()) index_enums(full_name + "." + n.name(), n);
  }

  void collect_top_level() {
    std::vector<Section> top;
    for (int i = 0; i < file_.message_type_size(); ++i)
      top.push_back({Section::Kind::message,
                     file_.message_type(i).name(),
                     {kFileMessageType, i},
                     &file_.message_type(i),
                     nullptr});
    for (int i = 0; i < file_.enum_type_size(); ++i)
      top.push_back(
          {Section::Kind::enumeration, file_.enum_type(i).name(), {kFileEnumType, i}, nullptr, &file_.enum_type(i)});
    add_in_declaration_order(std::move(top));
  }

  /// Appends `items` sorted by source line (stable, so without source info
  /// messages precede enums), each message followed by its nested types.
  void add_in_declaration_order(std::vector<Section> items) {
    std::stable_sort(items.begin(), items.end(), [&](const Section& a, const Section& b) {
      return comments_.line_of(a.path) < comments_.line_of(b.path);
    });
    for (auto& s : items) {
      // Map entries are shown as map<K, V> in the field's type, not as sections.
      if (s.kind == Section::Kind::message && s.message->options().map_entry()) continue;
      if (!anchors_.insert(github_slug(s.name)).second)
        throw std::runtime_error("two sections would share the anchor #" + github_slug(s.name) + " (" + s.name + ")");
      sections_.push_back(s);
      if (s.kind != Section::Kind::message) continue;
      std::vector<Section> nested;
      const auto& m = *s.message;
      for (int i = 0; i < m.nested_type_size(); ++i) {
        Path p = s.path;
        p.insert(p.end(), {kMessageNestedType, i});
        nested.push_back(
            {Section::Kind::message, s.name + "." + m.nested_type(i).name(), p, &m.nested_type(i), nullptr});
      }
      for (int i = 0; i < m.enum_type_size(); ++i) {
        Path p = s.path;
        p.insert(p.end(), {kMessageEnumType, i});
        nested.push_back(
            {Section::Kind::enumeration, s.name + "." + m.enum_type(i).name(), p, nullptr, &m.enum_type(i)});
      }
      add_in_declaration_order(std::move(nested));
    }
  }

  static std::string quote(const std::string& paragraphs) {
    std::string out;
    for (const auto& line : split_lines(paragraphs)) out += line.empty() ? ">\n" : "> " + line + "\n";
    return out;
  }

  /// ".spinesim.scene.Species.Kind" → "Species.Kind" (types of other packages keep their full name).
  std::string display_name(const std::string& type_name) const {
    if (type_name.rfind(package_prefix_, 0) == 0) return type_name.substr(package_prefix_.size());
    return type_name.empty() || type_name[0] != '.' ? type_name : type_name.substr(1);
  }

  /// A message or enum name, linked when it has a section in this document.
  std::string type_link(const std::string& type_name) const {
    const std::string name = display_name(type_name);
    if (type_name.rfind(package_prefix_, 0) == 0 && anchors_.count(github_slug(name)))
      return "[" + name + "](#" + github_slug(name) + ")";
    return "`" + name + "`";
  }

  std::string base_type(const pb::FieldDescriptorProto& f) const {
    if (f.type() == pb::FieldDescriptorProto::TYPE_MESSAGE || f.type() == pb::FieldDescriptorProto::TYPE_ENUM ||
        f.type() == pb::FieldDescriptorProto::TYPE_GROUP)
      return type_link(f.type_name());
    return "`" + scalar_type_name(f.type()) + "`";
  }

  const pb::DescriptorProto* map_entry_of(const pb::DescriptorProto& owner, const pb::FieldDescriptorProto& f) const {
    if (f.type() != pb::FieldDescriptorProto::TYPE_MESSAGE) return nullptr;
    for (const auto& n : owner.nested_type())
      if (n.options().map_entry() && f.type_name().size() > n.name().size() &&
          f.type_name().compare(f.type_name().size() - n.name().size() - 1, std::string::npos, "." + n.name()) == 0)
        return &n;
    return nullptr;
  }

  /// What a reader gets when the field is not written: the declared default,
  /// else the type's zero (proto2), or "—" where there is no single value.
  std::string default_cell(const pb::FieldDescriptorProto& f, const std::string& comment) const {
    using F = pb::FieldDescriptorProto;
    if (f.label() == F::LABEL_REPEATED) return "—";
    std::string value;
    if (f.has_default_value()) {
      value = f.type() == F::TYPE_STRING || f.type() == F::TYPE_BYTES ? "`\"" + f.default_value() + "\"`"
                                                                      : "`" + f.default_value() + "`";
    } else {
      switch (f.type()) {
        case F::TYPE_MESSAGE:
        case F::TYPE_GROUP:
          value = "—";
          break;
        case F::TYPE_BOOL:
          value = "`false`";
          break;
        case F::TYPE_STRING:
        case F::TYPE_BYTES:
          value = "`\"\"`";
          break;
        case F::TYPE_ENUM: {
          // proto2: an unset enum reads as its first declared value.
          auto it = enums_.find(f.type_name());
          value = it != enums_.end() && it->second->value_size() > 0 ? "`" + it->second->value(0).name() + "`" : "—";
          break;
        }
        default:
          value = "`0`";
          break;
      }
    }
    static const std::regex required_word("\\bRequired\\b");
    if (f.label() == F::LABEL_REQUIRED || std::regex_search(comment, required_word)) value += " (required)";
    return value;
  }

  void render_message(std::ostringstream& out, const Section& s) const {
    const auto& m = *s.message;
    out << "## " << s.name << "\n\n";
    const std::string comment = as_paragraphs(comments_.of(s.path));
    if (!comment.empty()) out << comment << "\n\n";
    if (m.field_size() == 0) {
      out << "No fields.\n\n";
      return;
    }
    out << "| Field | Type | Default | Description |\n"
        << "|---|---|---|---|\n";
    for (int i = 0; i < m.field_size(); ++i) {
      const auto& f = m.field(i);
      Path p = s.path;
      p.insert(p.end(), {kMessageField, i});
      const std::string field_comment = comments_.of(p);
      std::string type;
      if (const auto* entry = map_entry_of(m, f); entry && entry->field_size() == 2) {
        type = "map&lt;" + base_type(entry->field(0)) + ", " + base_type(entry->field(1)) + "&gt;";
      } else {
        type = base_type(f);
        if (f.label() == pb::FieldDescriptorProto::LABEL_REPEATED) type = "repeated " + type;
      }
      // proto3 `optional` is a synthetic one-member oneof, not a real choice.
      if (f.has_oneof_index() && !f.proto3_optional()) type += ", oneof `" + m.oneof_decl(f.oneof_index()).name() + "`";
      out << "| `" << f.name() << "` | " << type << " | " << default_cell(f, field_comment) << " | "
          << as_cell(field_comment) << " |\n";
    }
    out << "\n";
    // A note per real oneof: which fields exclude each other.
    for (int o = 0; o < m.oneof_decl_size(); ++o) {
      std::vector<std::string> members;
      for (const auto& f : m.field())
        if (f.has_oneof_index() && f.oneof_index() == o && !f.proto3_optional())
          members.push_back("`" + f.name() + "`");
      if (members.empty()) continue;
      out << "Oneof `" << m.oneof_decl(o).name() << "`: at most one of ";
      for (std::size_t i = 0; i < members.size(); ++i) out << (i ? ", " : "") << members[i];
      out << ".";
      Path p = s.path;
      p.insert(p.end(), {kMessageOneofDecl, o});
      const std::string oneof_comment = as_cell(comments_.of(p));
      if (!oneof_comment.empty()) out << " " << oneof_comment;
      out << "\n\n";
    }
  }

  void render_enum(std::ostringstream& out, const Section& s) const {
    const auto& e = *s.enumeration;
    out << "## " << s.name << "\n\n";
    const std::string comment = as_paragraphs(comments_.of(s.path));
    if (!comment.empty()) out << comment << "\n\n";
    out << "Enum: a scene file writes the value's name, not its number.\n\n"
        << "| Value | Number | Description |\n"
        << "|---|---|---|\n";
    for (int i = 0; i < e.value_size(); ++i) {
      Path p = s.path;
      p.insert(p.end(), {kEnumValue, i});
      out << "| `" << e.value(i).name() << "` | " << e.value(i).number() << " | " << as_cell(comments_.of(p)) << " |\n";
    }
    out << "\n";
  }

  const pb::FileDescriptorProto& file_;
  Comments comments_;
  std::string package_prefix_;
  std::map<std::string, const pb::EnumDescriptorProto*> enums_;
  std::vector<Section> sections_;
  std::set<std::string> anchors_;
};

std::string read_binary(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

int run(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: spinesim_scene_doc DESCRIPTOR_SET OUT.md\n"
              << "  DESCRIPTOR_SET: protoc --include_source_info --include_imports --descriptor_set_out=...\n";
    return 2;
  }
  pb::FileDescriptorSet set;
  if (!set.ParseFromString(read_binary(argv[1])))
    throw std::runtime_error(std::string(argv[1]) +
                             " is not a FileDescriptorSet (make it with protoc --descriptor_set_out)");
  if (set.file_size() == 0) throw std::runtime_error(std::string(argv[1]) + " holds no files");
  const auto& file = set.file(set.file_size() - 1);
  // Without source info every description would silently be empty.
  if (file.source_code_info().location_size() == 0)
    throw std::runtime_error(std::string(argv[1]) + " has no comments: run protoc with --include_source_info");
  atomic_write(argv[2], Renderer(set, file).render());
  return 0;
}

}  // namespace
}  // namespace spinesim

int main(int argc, char** argv) {
  try {
    return spinesim::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "spinesim_scene_doc: " << e.what() << "\n";
    return 1;
  }
}
