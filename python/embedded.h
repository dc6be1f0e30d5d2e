// Python inside the `dosim` program: makes kind python available to the command line. The
// interpreter starts on first use (a scenario or bench that names kind python), on the
// thread that plans the run, and then releases the GIL so that runs on any thread can take
// it. Programs that never use kind python never start it.
#pragma once

namespace dosim::python {

// Installs the kind python maker (dosim/detectors/registry.h) with a lazily started
// interpreter. Call once, before any run.
void enable_embedded_python();

}  // namespace dosim::python
