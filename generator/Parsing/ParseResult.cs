using GraphGen.Generator.Helpers;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Parsing;

/// <summary>What the parser returns for one [Network] class: a model (null when an error was
/// found), the diagnostics to report, and, when the declaration itself is fine but the network is
/// not, a stub to emit so that code using the class compiles and the GG error stands alone.</summary>
internal sealed record ParseResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, StubModel? Stub = null);
