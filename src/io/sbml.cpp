#include "io/sbml.h"

// Debian builds libSBML without its C++ namespace: its classes are global.
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>
#include <sbml/SBMLTypes.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <sstream>

#include "core/input_file.h"
#include "core/units.h"
#include "core/xml_escape.h"
#include "model/pools.h"
#include "schema/scene.pb.h"

namespace spinesim {

namespace {

constexpr const char* kNamespace = "urn:spinesim:sbml:1";

std::string number_text(double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

/// One element <spinesim:data key="value" .../> in an <annotation>.
std::string annotation(const std::vector<std::pair<std::string, std::string>>& attrs) {
  std::string s = "<annotation><spinesim:data xmlns:spinesim=\"" + std::string(kNamespace) + "\"";
  for (const auto& [k, v] : attrs) s += " " + k + "=\"" + xml_escape(v) + "\"";
  return s + "/></annotation>";
}

/// The spinesim annotation of an element, as key → value (empty when it has none).
std::map<std::string, std::string> read_annotation(const ::SBase& element) {
  std::map<std::string, std::string> out;
  const ::XMLNode* a = const_cast<::SBase&>(element).getAnnotation();
  if (a == nullptr) return out;
  for (unsigned i = 0; i < a->getNumChildren(); ++i) {
    const ::XMLNode& child = a->getChild(i);
    if (child.getURI() != kNamespace) continue;
    for (int k = 0; k < child.getAttributesLength(); ++k) out[child.getAttrName(k)] = child.getAttrValue(k);
  }
  return out;
}

void require_id(const std::string& id, const std::string& what) {
  if (!::SyntaxChecker::isValidSBMLSId(id))
    throw InputError(
        {Diagnostic{"", 0, 0, what, "'" + id + "' is not a valid SBML identifier (letters, digits, '_')"}});
}

std::unique_ptr<::ASTNode> formula(const std::string& text) {
  std::unique_ptr<::ASTNode> ast(::SBML_parseL3Formula(text.c_str()));
  if (!ast) throw std::logic_error("internal: cannot parse generated formula " + text);
  return ast;
}

}  // namespace

std::string well_mixed_to_sbml(const scene::WellMixed& wm, const std::string& model_id) {
  ::SBMLDocument doc(3, 2);
  ::Model* m = doc.createModel();
  require_id(model_id, "model");
  m->setId(model_id);
  ::UnitDefinition* um3 = m->createUnitDefinition();
  um3->setId("um3");
  ::Unit* u = um3->createUnit();
  u->setKind(::UNIT_KIND_LITRE);
  u->setExponent(1);
  u->setScale(-15);
  u->setMultiplier(1);
  m->setSubstanceUnits("item");
  m->setExtentUnits("item");
  m->setTimeUnits("second");
  m->setVolumeUnits("um3");

  std::map<std::string, double> params;
  for (const auto& p : wm.parameter()) {
    require_id(p.name(), "parameter");
    params[p.name()] = p.value();
    ::Parameter* sp = m->createParameter();
    sp->setId(p.name());
    sp->setValue(p.value());
    sp->setConstant(true);
    sp->setAnnotation(annotation({{"unit", p.unit()}, {"source", p.source()}}));
  }
  std::map<std::string, double> volume;
  for (const auto& pool : wm.pool()) {
    require_id(pool.name(), "pool");
    ::Compartment* c = m->createCompartment();
    c->setId(pool.name());
    c->setSpatialDimensions(3.0);
    c->setConstant(true);
    c->setUnits("um3");
    if (pool.has_volume_parameter()) {
      volume[pool.name()] = params.count(pool.volume_parameter()) ? params[pool.volume_parameter()] : NAN;
      c->setSize(volume[pool.name()]);
      ::InitialAssignment* ia = m->createInitialAssignment();
      ia->setSymbol(pool.name());
      ia->setMath(formula(pool.volume_parameter()).get());
      c->setAnnotation(annotation({{"volume_parameter", pool.volume_parameter()}}));
    } else {
      volume[pool.name()] = pool.volume_um3();
      c->setSize(pool.volume_um3());
    }
  }
  std::map<std::string, std::string> pool_of;
  for (const auto& s : wm.species()) {
    require_id(s.name(), "species");
    pool_of[s.name()] = s.pool();
    ::Species* sp = m->createSpecies();
    sp->setId(s.name());
    sp->setCompartment(s.pool());
    sp->setHasOnlySubstanceUnits(true);
    sp->setBoundaryCondition(false);
    sp->setConstant(false);
    sp->setSubstanceUnits("item");
    const double omega = kMoleculesPerUMPerUm3 * (volume.count(s.pool()) ? volume[s.pool()] : NAN);
    std::vector<std::pair<std::string, std::string>> a;
    if (s.has_um()) {
      sp->setInitialAmount(s.um() * omega);
      a.push_back({"uM", number_text(s.um())});
    } else if (s.has_um_parameter()) {
      sp->setInitialAmount((params.count(s.um_parameter()) ? params[s.um_parameter()] : NAN) * omega);
      ::InitialAssignment* ia = m->createInitialAssignment();
      ia->setSymbol(s.name());
      ia->setMath(formula(s.um_parameter() + " * 602.214076 * " + s.pool()).get());
      a.push_back({"uM_parameter", s.um_parameter()});
    } else {
      sp->setInitialAmount(static_cast<double>(s.count()));
    }
    if (s.has_insert_as_agent()) {
      a.push_back({"insert_species", s.insert_as_agent().species()});
      a.push_back({"insert_region", s.insert_as_agent().region()});
      if (s.insert_as_agent().has_state()) a.push_back({"insert_state", s.insert_as_agent().state()});
    }
    if (!s.source().empty()) a.push_back({"source", s.source()});
    if (!a.empty()) sp->setAnnotation(annotation(a));
  }
  for (int i = 0; i < wm.reaction_size(); ++i) {
    const auto& r = wm.reaction(i);
    ::Reaction* sr = m->createReaction();
    sr->setId("r" + std::to_string(i + 1));
    if (!r.name().empty()) sr->setName(r.name());
    sr->setReversible(false);
    auto add = [&](const google::protobuf::RepeatedPtrField<std::string>& names, bool reactant) {
      std::map<std::string, int> stoich;
      std::vector<std::string> order;
      for (const auto& n : names)
        if (stoich[n]++ == 0) order.push_back(n);
      for (const auto& n : order) {
        ::SpeciesReference* ref = reactant ? sr->createReactant() : sr->createProduct();
        ref->setSpecies(n);
        ref->setStoichiometry(stoich[n]);
        ref->setConstant(true);
      }
    };
    add(r.reactant(), true);
    add(r.product(), false);
    std::string pool = r.volume_of();
    if (pool.empty())
      pool = r.reactant_size() > 0 ? pool_of[r.reactant(0)] : (r.product_size() > 0 ? pool_of[r.product(0)] : "");
    const std::string k = r.has_rate_parameter() ? r.rate_parameter() : number_text(r.rate());
    const std::string omega = "(602.214076 * " + pool + ")";
    std::string law;
    if (!r.influx_from().empty()) {
      law = "0";  // driven by agents' Ca2+ flux: only spinesim knows it (annotation)
    } else if (r.reactant_size() == 0) {
      law = k + " * " + omega;
    } else {
      law = k;
      for (const auto& n : r.reactant()) law += " * " + n;
      if (r.reactant_size() == 2) law += " / " + omega;
    }
    if (pool.empty()) law = "0";
    ::KineticLaw* kl = sr->createKineticLaw();
    kl->setMath(formula(law).get());
    std::vector<std::pair<std::string, std::string>> a;
    if (r.has_rate_parameter())
      a.push_back({"rate_parameter", r.rate_parameter()});
    else
      a.push_back({"rate", number_text(r.rate())});
    if (r.has_volume_of()) a.push_back({"volume_of", r.volume_of()});
    if (!r.modulator().empty()) a.push_back({"modulator", r.modulator()});
    if (!r.influx_from().empty()) a.push_back({"influx_from", r.influx_from()});
    if (!r.source().empty()) a.push_back({"source", r.source()});
    sr->setAnnotation(annotation(a));
  }
  std::string links;
  for (const auto& e : wm.agent_to_pool())
    links += "<spinesim:agent_to_pool species=\"" + xml_escape(e.species()) + "\" state=\"" + xml_escape(e.state()) +
             "\" pool_species=\"" + xml_escape(e.pool_species()) + "\"/>";
  // Always present: it also marks the model as written by spinesim (no sources are
  // invented for its unannotated species when it is read back).
  m->setAnnotation("<annotation><spinesim:links xmlns:spinesim=\"" + std::string(kNamespace) + "\">" + links +
                   "</spinesim:links></annotation>");
  std::unique_ptr<char, decltype(&std::free)> text(::writeSBMLToString(&doc), &std::free);
  return text ? std::string(text.get()) : std::string();
}

std::vector<std::string> sbml_consistency_problems(const std::string& xml) {
  std::unique_ptr<::SBMLDocument> doc(::readSBMLFromString(xml.c_str()));
  doc->checkConsistency();
  std::vector<std::string> out;
  for (unsigned i = 0; i < doc->getNumErrors(); ++i) {
    const ::SBMLError* e = doc->getError(i);
    if (e->getSeverity() >= ::LIBSBML_SEV_ERROR)
      out.push_back("line " + std::to_string(e->getLine()) + ": " + e->getCategoryAsString() + ": " + e->getMessage());
  }
  return out;
}

bool looks_like_xml(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return first != std::string::npos && text.compare(first, 1, "<") == 0;
}

namespace {

/// Reads one model into a WellMixed message, reporting what it cannot take.
class SbmlImport {
 public:
  SbmlImport(const ::Model& m, std::string file, std::vector<Diagnostic>& errors)
      : m_(m), file_(std::move(file)), errors_(errors) {}

  void run(scene::WellMixed& out) {
    if (const ::XMLNode* a = const_cast<::Model&>(m_).getAnnotation())
      for (unsigned i = 0; i < a->getNumChildren(); ++i) own_ = own_ || a->getChild(i).getURI() == kNamespace;
    refuse_unsupported();
    if (!units()) return;
    parameters(out);
    compartments(out);
    species(out);
    reactions(out);
    links(out);
  }

 private:
  void error(const ::SBase& element, const std::string& what, const std::string& message) {
    errors_.push_back(
        Diagnostic{file_, static_cast<int>(element.getLine()), static_cast<int>(element.getColumn()), what, message});
  }
  static std::string named(const char* kind, const ::SBase& e) { return std::string(kind) + " '" + e.getId() + "'"; }

  void refuse_unsupported() {
    for (unsigned i = 0; i < m_.getNumEvents(); ++i)
      error(*m_.getEvent(i), named("event", *m_.getEvent(i)),
            "events are not supported; model discrete changes as "
            "releases or clamps in the scene");
    for (unsigned i = 0; i < m_.getNumRules(); ++i)
      error(*m_.getRule(i), "rule for '" + m_.getRule(i)->getVariable() + "'",
            "rules (assignment, rate, algebraic) are not supported; only mass-action reactions are");
    for (unsigned i = 0; i < m_.getNumConstraints(); ++i)
      error(*m_.getConstraint(i), "constraint", "constraints are not supported");
    for (unsigned i = 0; i < m_.getNumFunctionDefinitions(); ++i)
      error(*m_.getFunctionDefinition(i), named("functionDefinition", *m_.getFunctionDefinition(i)),
            "function definitions are not supported; write kinetic laws as products of constants and species");
  }

  /// Conversion factors of a unit reference to (items, µm³ or s); nullopt when unknown.
  std::optional<double> factor(const std::string& unit, ::UnitKind_t base, double base_factor, int base_exponent) {
    if (unit.empty()) return std::nullopt;
    if (unit == ::UnitKind_toString(base)) return base_factor;
    if (unit == "item" && base == ::UNIT_KIND_MOLE) return 1.0;  // item is a substance unit too
    const ::UnitDefinition* ud = m_.getUnitDefinition(unit);
    if (ud == nullptr || ud->getNumUnits() != 1) return std::nullopt;
    const ::Unit* u = ud->getUnit(0);
    double f = 0;
    if (u->getKind() == base && u->getExponent() == 1)
      f = base_factor;
    else if (base == ::UNIT_KIND_MOLE && u->getKind() == ::UNIT_KIND_ITEM && u->getExponent() == 1)
      f = 1.0;
    else if (base == ::UNIT_KIND_LITRE && u->getKind() == ::UNIT_KIND_METRE && u->getExponent() == 3)
      return std::pow(u->getMultiplier() * std::pow(10.0, u->getScale()), 3) * 1e18;
    else
      return std::nullopt;
    (void)base_exponent;
    return std::pow(u->getMultiplier() * std::pow(10.0, u->getScale()), u->getExponent()) * f;
  }

  bool units() {
    const auto sub = factor(m_.getSubstanceUnits(), ::UNIT_KIND_MOLE, kAvogadro_per_mol, 1);
    const auto ext = factor(m_.isSetExtentUnits() ? m_.getExtentUnits() : m_.getSubstanceUnits(), ::UNIT_KIND_MOLE,
                            kAvogadro_per_mol, 1);
    const auto vol = factor(m_.getVolumeUnits(), ::UNIT_KIND_LITRE, 1e15, 1);
    const auto time = factor(m_.getTimeUnits(), ::UNIT_KIND_SECOND, 1.0, 1);
    bool ok = true;
    auto need = [&](bool have, const char* attr, const char* example) {
      if (!have) {
        error(m_, std::string("model ") + attr,
              std::string("set the model's ") + attr + " to a supported unit (" + example + ")");
        ok = false;
      }
    };
    need(sub.has_value(), "substanceUnits", "mole, item, or a unitDefinition of one scaled mole or item");
    need(ext.has_value(), "extentUnits", "the same as substanceUnits");
    need(vol.has_value(), "volumeUnits", "litre, or a unitDefinition of a scaled litre or metre^3");
    need(time.has_value(), "timeUnits", "second, or a unitDefinition of a scaled second");
    if (!ok) return false;
    items_per_substance_ = *sub;
    items_per_extent_ = *ext;
    um3_per_volume_ = *vol;
    s_per_time_ = *time;
    return true;
  }

  void parameters(scene::WellMixed& out) {
    for (unsigned i = 0; i < m_.getNumParameters(); ++i) {
      const ::Parameter& p = *m_.getParameter(i);
      if (!p.getConstant()) {
        error(p, named("parameter", p), "only constant parameters are supported");
        continue;
      }
      values_[p.getId()] = p.getValue();
      const auto a = read_annotation(p);
      if (a.empty()) continue;  // a foreign parameter: folded into the rates that use it
      auto* q = out.add_parameter();
      q->set_name(p.getId());
      q->set_value(p.getValue());
      if (a.count("unit")) q->set_unit(a.at("unit"));
      if (a.count("source")) q->set_source(a.at("source"));
    }
  }

  void compartments(scene::WellMixed& out) {
    for (unsigned i = 0; i < m_.getNumCompartments(); ++i) {
      const ::Compartment& c = *m_.getCompartment(i);
      const auto a = read_annotation(c);
      auto* pool = out.add_pool();
      pool->set_name(c.getId());
      if (a.count("volume_parameter")) {
        pool->set_volume_parameter(a.at("volume_parameter"));
        size_um3_[c.getId()] = values_.count(a.at("volume_parameter")) ? values_[a.at("volume_parameter")] : NAN;
        continue;
      }
      if (!c.getConstant() || !c.isSetSize() || m_.getInitialAssignment(c.getId()) != nullptr) {
        error(c, named("compartment", c), "give the compartment a constant size (no initial assignment)");
        continue;
      }
      if (c.getSpatialDimensionsAsDouble() != 3) {
        error(c, named("compartment", c), "only 3-dimensional compartments can be pools");
        continue;
      }
      const double f =
          c.isSetUnits() ? factor(c.getUnits(), ::UNIT_KIND_LITRE, 1e15, 1).value_or(NAN) : um3_per_volume_;
      size_um3_[c.getId()] = c.getSize() * f;
      pool->set_volume_um3(c.getSize() * f);
    }
  }

  void species(scene::WellMixed& out) {
    for (unsigned i = 0; i < m_.getNumSpecies(); ++i) {
      const ::Species& s = *m_.getSpecies(i);
      if (s.getBoundaryCondition() || s.getConstant()) {
        error(s, named("species", s),
              "boundary or constant species are not supported; hold a concentration fixed with a clamp in the scene");
        continue;
      }
      const auto a = read_annotation(s);
      auto* ps = out.add_species();
      ps->set_name(s.getId());
      ps->set_pool(s.getCompartment());
      only_amount_[s.getId()] = s.getHasOnlySubstanceUnits();
      compartment_of_[s.getId()] = s.getCompartment();
      if (a.count("source")) ps->set_source(a.at("source"));
      if (a.count("insert_species")) {
        auto* ins = ps->mutable_insert_as_agent();
        ins->set_species(a.at("insert_species"));
        if (a.count("insert_region")) ins->set_region(a.at("insert_region"));
        if (a.count("insert_state")) ins->set_state(a.at("insert_state"));
      }
      if (a.count("uM")) {
        ps->set_um(std::strtod(a.at("uM").c_str(), nullptr));
        continue;
      }
      if (a.count("uM_parameter")) {
        ps->set_um_parameter(a.at("uM_parameter"));
        continue;
      }
      if (m_.getInitialAssignment(s.getId()) != nullptr) {
        error(*m_.getInitialAssignment(s.getId()), "initialAssignment for '" + s.getId() + "'",
              "initial assignments are not supported; give the species an initialAmount or initialConcentration");
        continue;
      }
      const double items_per_unit =
          s.isSetSubstanceUnits() ? factor(s.getSubstanceUnits(), ::UNIT_KIND_MOLE, kAvogadro_per_mol, 1).value_or(NAN)
                                  : items_per_substance_;
      double amount = NAN;
      if (s.isSetInitialAmount())
        amount = s.getInitialAmount();
      else if (s.isSetInitialConcentration() && m_.getCompartment(s.getCompartment()) != nullptr)
        amount = s.getInitialConcentration() * m_.getCompartment(s.getCompartment())->getSize();
      const double items = amount * items_per_unit;
      if (!(std::isfinite(items) && items >= 0)) {
        error(s, named("species", s), "give a finite, non-negative initialAmount or initialConcentration");
        continue;
      }
      if (items == std::floor(items) && items < 9e15)
        ps->set_count(static_cast<std::uint64_t>(items));
      else
        ps->set_um(items / (kMoleculesPerUMPerUm3 * size_um3_[s.getCompartment()]));
      if (!own_) ps->set_source("SBML model '" + m_.getId() + "' in " + file_ + ", species '" + s.getId() + "'");
    }
  }

  /// Collects a kinetic law as coefficient × Π symbol^exponent; false if it is not one.
  bool product(const ::ASTNode* n, int sign, const ::KineticLaw& kl, double& coeff,
               std::map<std::string, int>& species) {
    switch (n->getType()) {
      case ::AST_INTEGER:
      case ::AST_REAL:
      case ::AST_REAL_E:
      case ::AST_RATIONAL:
        coeff *= std::pow(n->getReal(), sign);
        return true;
      case ::AST_NAME: {
        const std::string id = n->getName();
        if (const ::LocalParameter* lp = kl.getLocalParameter(id)) {
          coeff *= std::pow(lp->getValue(), sign);
        } else if (values_.count(id)) {
          coeff *= std::pow(values_.at(id), sign);
        } else if (const ::Compartment* c = m_.getCompartment(id)) {
          coeff *= std::pow(c->getSize(), sign);
        } else if (only_amount_.count(id)) {
          species[id] += sign;
        } else {
          return false;
        }
        return true;
      }
      case ::AST_TIMES:
        for (unsigned i = 0; i < n->getNumChildren(); ++i)
          if (!product(n->getChild(i), sign, kl, coeff, species)) return false;
        return true;
      case ::AST_DIVIDE:
        return n->getNumChildren() == 2 && product(n->getChild(0), sign, kl, coeff, species) &&
               product(n->getChild(1), -sign, kl, coeff, species);
      case ::AST_POWER:
      case ::AST_FUNCTION_POWER: {
        if (n->getNumChildren() != 2) return false;
        const ::ASTNode* e = n->getChild(1);
        if (!(e->isNumber() && e->getReal() == std::floor(e->getReal()) && std::fabs(e->getReal()) <= 4)) return false;
        const int times = static_cast<int>(e->getReal());
        for (int k = 0; k < std::abs(times); ++k)
          if (!product(n->getChild(0), times > 0 ? sign : -sign, kl, coeff, species)) return false;
        return true;
      }
      default:
        return false;
    }
  }

  void reactions(scene::WellMixed& out) {
    for (unsigned i = 0; i < m_.getNumReactions(); ++i) {
      const ::Reaction& r = *m_.getReaction(i);
      const std::string what = named("reaction", r);
      const auto a = read_annotation(r);
      auto* pr = out.add_reaction();
      if (r.isSetName())
        pr->set_name(r.getName());
      else if (!own_)
        pr->set_name(r.getId());
      bool ok = true;
      auto refs = [&](unsigned count, auto get, bool reactant) {
        for (unsigned k = 0; k < count; ++k) {
          const ::SpeciesReference& ref = *get(k);
          const double st = ref.isSetStoichiometry() ? ref.getStoichiometry() : 1;
          if (!(st >= 1 && st == std::floor(st) && st <= 2) || m_.getInitialAssignment(ref.getId()) != nullptr) {
            error(ref, what + (reactant ? " reactant '" : " product '") + ref.getSpecies() + "'",
                  "stoichiometry must be a constant 1 or 2");
            ok = false;
            continue;
          }
          for (int c = 0; c < static_cast<int>(st); ++c)
            (reactant ? pr->add_reactant() : pr->add_product())->assign(ref.getSpecies());
        }
      };
      refs(
          r.getNumReactants(), [&](unsigned k) { return r.getReactant(k); }, true);
      refs(
          r.getNumProducts(), [&](unsigned k) { return r.getProduct(k); }, false);
      if (pr->reactant_size() > 2) {
        error(r, what, "at most two reactant molecules (the SSA's mass action is elementary)");
        continue;
      }
      if (!ok) continue;
      if (a.count("modulator")) pr->set_modulator(a.at("modulator"));
      if (a.count("influx_from")) pr->set_influx_from(a.at("influx_from"));
      if (a.count("volume_of")) pr->set_volume_of(a.at("volume_of"));
      if (a.count("source")) pr->set_source(a.at("source"));
      if (a.count("rate_parameter")) {
        pr->set_rate_parameter(a.at("rate_parameter"));
        continue;
      }
      if (a.count("rate")) {
        pr->set_rate(std::strtod(a.at("rate").c_str(), nullptr));
        continue;
      }
      const ::KineticLaw* kl = r.getKineticLaw();
      if (kl == nullptr || !kl->isSetMath()) {
        error(r, what, "give the reaction a kinetic law");
        continue;
      }
      double coeff = 1;
      std::map<std::string, int> powers;
      std::unique_ptr<char, decltype(&std::free)> text(::SBML_formulaToL3String(kl->getMath()), &std::free);
      const std::string law = text ? text.get() : "?";
      if (!product(kl->getMath(), 1, *kl, coeff, powers)) {
        error(*kl, what + " kineticLaw",
              "'" + law +
                  "' is not mass action (a product of constants and reactants); split reversible reactions "
                  "into two irreversible ones");
        continue;
      }
      std::map<std::string, int> want;
      for (const auto& n : pr->reactant()) ++want[n];
      for (auto it = powers.begin(); it != powers.end();) it = it->second == 0 ? powers.erase(it) : std::next(it);
      if (powers != want) {
        error(*kl, what + " kineticLaw",
              "'" + law +
                  "' is not mass action: each reactant must appear to the power of its stoichiometry, and "
                  "no other species");
        continue;
      }
      // Propensity in items/s for counts n: K · Π n^e (see sbml.h for the derivation).
      double K = coeff * items_per_extent_ / s_per_time_;
      for (const auto& [id, e] : powers) {
        double per = items_per_substance_;
        if (!only_amount_.at(id)) per *= m_.getCompartment(compartment_of_.at(id))->getSize();
        K /= std::pow(per, e);
      }
      const std::string pool =
          pr->volume_of().empty()
              ? (pr->reactant_size() > 0 ? compartment_of_[pr->reactant(0)]
                                         : (pr->product_size() > 0 ? compartment_of_[pr->product(0)] : ""))
              : pr->volume_of();
      const double omega = kMoleculesPerUMPerUm3 * size_um3_[pool];
      const int order = pr->reactant_size();
      pr->set_rate(order == 0 ? K / omega : K * std::pow(omega, order - 1));
      if (!pr->has_source()) pr->set_source("SBML model '" + m_.getId() + "' in " + file_ + ", " + what + ": " + law);
    }
  }

  void links(scene::WellMixed& out) {
    const ::XMLNode* a = const_cast<::Model&>(m_).getAnnotation();
    if (a == nullptr) return;
    for (unsigned i = 0; i < a->getNumChildren(); ++i) {
      const ::XMLNode& links = a->getChild(i);
      if (links.getURI() != kNamespace) continue;
      for (unsigned k = 0; k < links.getNumChildren(); ++k) {
        const ::XMLNode& e = links.getChild(k);
        if (e.getName() != "agent_to_pool") continue;
        auto* ap = out.add_agent_to_pool();
        ap->set_species(e.getAttrValue("species"));
        ap->set_state(e.getAttrValue("state"));
        ap->set_pool_species(e.getAttrValue("pool_species"));
      }
    }
  }

  const ::Model& m_;
  std::string file_;
  std::vector<Diagnostic>& errors_;
  double items_per_substance_ = 1, items_per_extent_ = 1, um3_per_volume_ = 1, s_per_time_ = 1;
  std::map<std::string, double> values_, size_um3_;
  std::map<std::string, bool> only_amount_;
  std::map<std::string, std::string> compartment_of_;
  bool own_ = false;  ///< written by spinesim's export (annotated)
};

}  // namespace

bool well_mixed_from_sbml(const std::string& xml, const std::string& file, scene::WellMixed& out,
                          std::vector<Diagnostic>& errors) {
  const std::size_t before = errors.size();
  std::unique_ptr<::SBMLDocument> doc(::readSBMLFromString(xml.c_str()));
  for (unsigned i = 0; i < doc->getNumErrors(); ++i) {
    const ::SBMLError* e = doc->getError(i);
    if (e->getSeverity() < ::LIBSBML_SEV_ERROR) continue;
    errors.push_back(Diagnostic{file, static_cast<int>(e->getLine()), static_cast<int>(e->getColumn()), "sbml",
                                e->getShortMessage() + ": " + e->getMessage()});
  }
  if (errors.size() > before) return false;
  if (doc->getModel() == nullptr) {
    errors.push_back(Diagnostic{file, 0, 0, "sbml", "the document holds no <model>"});
    return false;
  }
  if (doc->getLevel() < 3 && !doc->setLevelAndVersion(3, 2, false)) {
    errors.push_back(Diagnostic{
        file, 0, 0, "sbml", "cannot convert this SBML Level " + std::to_string(doc->getLevel()) + " model to Level 3"});
    return false;
  }
  SbmlImport(*doc->getModel(), file, errors).run(out);
  return errors.size() == before;
}

std::string export_sbml(const std::string& file) {
  namespace fs = std::filesystem;
  const std::string text = read_input_file(file, kPathwayFileKind);
  // Tried as a pathway, then as a scene: the first attempt's errors are expected.
  struct Quiet : google::protobuf::io::ErrorCollector {
    void AddError(int, google::protobuf::io::ColumnNumber, const std::string&) override {}
  } quiet;
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&quiet);
  scene::WellMixed merged;
  scene::WellMixed pathway;
  scene::Scene scene;
  std::string model_id = fs::path(file).stem().string();
  for (char& c : model_id)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  if (model_id.empty() || std::isdigit(static_cast<unsigned char>(model_id[0]))) model_id = "m_" + model_id;
  if (parser.ParseFromString(text, &pathway)) {
    merged = pathway;
  } else if (parser.ParseFromString(text, &scene)) {
    for (const auto& f : scene.well_mixed_file()) {
      const fs::path path = fs::path(f).is_absolute() ? fs::path(f) : fs::path(file).parent_path() / f;
      const std::string part = read_input_file(path, kPathwayFileKind);
      scene::WellMixed m;
      if (looks_like_xml(part)) {
        std::vector<Diagnostic> errors;
        if (!well_mixed_from_sbml(part, path.string(), m, errors)) throw InputError(errors);
      } else if (!parser.ParseFromString(part, &m)) {
        throw InputError({Diagnostic{path.string(), 0, 0, "",
                                     "not a pathway (WellMixed) in protobuf text format; "
                                     "check it with spinesim validate on a scene that uses it"}});
      }
      merged.MergeFrom(m);
    }
    if (scene.has_well_mixed()) merged.MergeFrom(scene.well_mixed());
  } else {
    throw InputError({Diagnostic{file, 0, 0, "",
                                 "neither a pathway (WellMixed message) nor a scene; run spinesim validate on a scene "
                                 "that uses it for the exact parse error"}});
  }
  if (merged.species_size() == 0) throw InputError({Diagnostic{file, 0, 0, "well_mixed", "no pool species to export"}});
  return well_mixed_to_sbml(merged, model_id);
}

}  // namespace spinesim
