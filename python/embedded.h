// Python inside the `dosim` program: makes kind python (detectors) and rankers written in
// Python available to the command line. The interpreter starts on first use (a scenario or
// bench that names kind python or a Python ranker), on the thread that plans the run, and
// then releases the GIL so that runs on any thread can take it. Programs that never use
// Python never start it.
#pragma once

namespace dosim::python {

// Installs the kind python maker (dosim/detectors/registry.h) and the Python ranker maker
// (dosim/analysis/root_cause.h) with a lazily started interpreter. Call once, before any run.
void enable_embedded_python();

}  // namespace dosim::python
