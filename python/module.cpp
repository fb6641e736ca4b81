// The C++ side of the `spinesim` Python package: api::Run with numpy views of the
// molecules. Python-side conveniences (pandas, scene messages) are in spinesim/.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <cstring>
#include <limits>

#include "api/run.h"
#include "core/error.h"
#include "io/counts_writer.h"
#include "io/ensemble_stats.h"

namespace py = pybind11;
using spinesim::api::Run;
using spinesim::api::RunOptions;

namespace {

RunOptions options_of(std::optional<std::uint64_t> seed, std::optional<double> t_end_s, int threads,
                      std::vector<std::string> set) {
  RunOptions o;
  o.seed = seed;
  o.t_end_s = t_end_s;
  o.threads = threads;
  o.set = std::move(set);
  return o;
}

/// A read-only numpy view of a vector the run owns; `owner` (the Python Run) stays
/// alive while the array does. Valid until the run advances (molecules move, appear
/// and vanish): Run.molecules() documents this.
template <typename T>
py::array_t<T> view(const std::vector<T>& v, py::handle owner) {
  py::array_t<T> a({static_cast<py::ssize_t>(v.size())}, {static_cast<py::ssize_t>(sizeof(T))}, v.data(), owner);
  py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_;
  return a;
}

/// An (n, 3) float64 array of the positions position(i), i < n (µm).
template <typename Position>
py::array_t<double> xyz_array(std::size_t n, Position position) {
  py::array_t<double> a({static_cast<py::ssize_t>(n), py::ssize_t{3}});
  double* out = a.mutable_data();
  for (std::size_t i = 0; i < n; ++i) {
    const auto p = position(i);
    out[3 * i] = p.x;
    out[3 * i + 1] = p.y;
    out[3 * i + 2] = p.z;
  }
  return a;
}

}  // namespace

PYBIND11_MODULE(_spinesim, m) {
  m.doc() = "spinesim's C++ run API (use the `spinesim` package, not this module)";
  static py::exception<spinesim::InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const spinesim::InputError& e) {
      input_error(e.what());
    } catch (const spinesim::IoError& e) {
      PyErr_SetString(PyExc_OSError, e.what());
    }
  });

  m.def("replicate_seed", &spinesim::replicate_seed, py::arg("base"), py::arg("replicate"),
        "Seed of replicate r of an ensemble with base seed `base`, as `spinesim ensemble` uses it");

  py::class_<Run>(m, "Run")
      .def_static(
          "from_file",
          [](const std::filesystem::path& file, std::optional<std::uint64_t> seed, std::optional<double> t_end_s,
             int threads, std::vector<std::string> set) {
            py::gil_scoped_release release;
            return Run::from_file(file, options_of(seed, t_end_s, threads, std::move(set)));
          },
          py::arg("file"), py::arg("seed") = py::none(), py::arg("t_end_s") = py::none(), py::arg("threads") = 1,
          py::arg("set") = std::vector<std::string>{})
      .def_static(
          "from_text",
          [](const std::string& text, const std::filesystem::path& name, std::optional<std::uint64_t> seed,
             std::optional<double> t_end_s, int threads, std::vector<std::string> set) {
            py::gil_scoped_release release;
            return Run::from_text(text, name, options_of(seed, t_end_s, threads, std::move(set)));
          },
          py::arg("text"), py::arg("name"), py::arg("seed") = py::none(), py::arg("t_end_s") = py::none(),
          py::arg("threads") = 1, py::arg("set") = std::vector<std::string>{})
      .def("checkpoint", [](const Run& r) { return py::bytes(r.checkpoint()); })
      .def_static(
          "from_checkpoint",
          [](const py::bytes& bytes, const std::string& name) {
            std::string data = bytes;
            py::gil_scoped_release release;
            return Run::from_checkpoint(data, name);
          },
          py::arg("bytes"), py::arg("name"))
      .def_property_readonly("time", &Run::time)
      .def_property_readonly("t_end", &Run::t_end)
      .def_property_readonly("finished", &Run::finished)
      .def_property_readonly("threads", &Run::threads)
      .def_property_readonly("dt", [](const Run& r) { return r.model().dt_s; })
      .def_property_readonly("resolved_scene", &Run::resolved_scene)
      .def("advance_to", &Run::advance_to, py::arg("t"), py::call_guard<py::gil_scoped_release>())
      .def("advance_steps", &Run::advance_steps, py::arg("n"), py::call_guard<py::gil_scoped_release>())
      .def("run_to_end", &Run::run_to_end, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("count_columns", &Run::count_columns)
      .def("count_rows",
           [](const Run& r) {
             const auto& rows = r.count_rows();
             const std::size_t cols = r.count_columns().size() + 1;
             py::array_t<double> a({static_cast<py::ssize_t>(rows.size()), static_cast<py::ssize_t>(cols)});
             auto out = a.mutable_unchecked<2>();
             for (std::size_t i = 0; i < rows.size(); ++i)
               std::memcpy(out.mutable_data(static_cast<py::ssize_t>(i), 0), rows[i].data(), cols * sizeof(double));
             return a;
           })
      .def("count_is_integer",
           [](const Run& r) {
             spinesim::CountColumns columns(r.model());
             std::vector<bool> flags;
             for (std::size_t k = 0; k < columns.names().size(); ++k) flags.push_back(columns.is_integer(k));
             return flags;
           })
      .def("count_units",
           [](const Run& r) {
             spinesim::CountColumns columns(r.model());
             std::vector<std::string> units;
             for (std::size_t k = 0; k < columns.names().size(); ++k) units.emplace_back(columns.unit(k));
             return units;
           })
      .def("positions",
           [](const Run& r) {
             const auto& v = r.simulator().world().volume;
             return xyz_array(v.size(), [&](std::size_t i) { return v.position(i); });
           })
      .def("volume_views",
           [](py::object self) {
             const auto& v = self.cast<const Run&>().simulator().world().volume;
             py::dict d;
             d["x"] = view(v.x, self);
             d["y"] = view(v.y, self);
             d["z"] = view(v.z, self);
             d["species"] = view(v.species, self);
             d["compartment"] = view(v.compartment, self);
             d["id"] = view(v.id, self);
             return d;
           })
      .def("snapshot",
           [](const Run& r) {
             const auto s = r.snapshot();
             const auto n = static_cast<py::ssize_t>(s.size());
             const auto xyz = xyz_array(s.size(), [&](std::size_t i) { return s.positions[i]; });
             py::dict d;
             d["time_s"] = s.time_s;
             d["xyz"] = xyz;
             d["species"] = py::array_t<std::int32_t>(n, s.species.data());
             d["state"] = py::array_t<std::int32_t>(n, s.state.data());
             d["region"] = py::array_t<std::int32_t>(n, s.region.data());
             d["compartment"] = py::array_t<std::int32_t>(n, s.compartment.data());
             d["id"] = py::array_t<std::uint64_t>(n, s.ids.data());
             d["species_names"] = s.species_names;
             d["state_names"] = s.state_names;
             d["region_names"] = s.region_names;
             d["compartment_names"] = s.compartment_names;
             return d;
           })
      .def_property_readonly("stats", [](const Run& r) {
        const auto& s = r.stats();
        py::dict d;
        d["brownian_steps"] = s.steps;
        d["events"] = s.events;
        d["clock_jumps"] = s.jumps;
        d["agent_transitions"] = s.agent_transitions;
        d["captures"] = s.captures;
        d["reactions"] = s.reactions;
        d["pool_reactions"] = s.pool_reactions;
        d["molecule_steps"] = s.molecule_steps;
        return d;
      });
}
