using System;
using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Helpers;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Emitting;

/// <summary>
/// The shape of a generated file: the user's partial class becomes a facade — one field holding the
/// network, the two constructors, and each <c>INetwork</c> member forwarding to the field — and everything
/// else (tables, phases, kernels, buffers) lives in a top-level <c>file sealed class</c> next to it, whose
/// name nothing outside the file can see or clash with. So the names GraphGen takes from the user's class
/// are exactly <see cref="Members"/> and <see cref="Field"/> (GG0009 checks them). The network emitter
/// and the stub emitter both write through here, so a stub has the same facade as a network.
/// </summary>
internal static class FacadeEmitter
{
    private const string Rt = "global::GraphGen", Sys = "global::System";

    /// <summary>The facade's one field: the network, typed as the interface (a file-local type cannot
    /// appear in a member signature of the user's class, CS9051).</summary>
    public const string Field = "_graphGen";

    /// <summary>An <c>INetwork</c> member as the facade declares it: its name, its signature (after
    /// "public "), and the arguments a method forwards (null for a property).</summary>
    public sealed record Member(string Name, string Signature, string? Arguments);

    /// <summary>Every member of <c>INetwork</c> (and IDisposable), in the interface's order.</summary>
    public static readonly IReadOnlyList<Member> Members = new Member[]
    {
        new("Name", "string Name", null),
        new("InputShape", $"{Sys}.Collections.Generic.IReadOnlyList<int> InputShape", null),
        new("InputSize", "int InputSize", null),
        new("Classes", "int Classes", null),
        new("MaxBatch", "int MaxBatch", null),
        new("Threads", "int Threads", null),
        new("Simd", $"{Rt}.SimdPath Simd", null),
        new("Layers", $"{Sys}.Collections.Generic.IReadOnlyList<{Rt}.LayerInfo> Layers", null),
        new("Tensors", $"{Sys}.Collections.Generic.IReadOnlyList<{Rt}.TensorInfo> Tensors", null),
        new("Tensor", $"{Sys}.Span<float> Tensor(string name)", "name"),
        new("Gradient", $"{Sys}.ReadOnlySpan<float> Gradient(string name)", "name"),
        new("TrainStep", $"{Rt}.StepResult TrainStep({Sys}.ReadOnlySpan<float> inputs, {Sys}.ReadOnlySpan<int> labels, float learningRate)", "inputs, labels, learningRate"),
        new("TrainStep", $"{Rt}.StepResult TrainStep({Sys}.ReadOnlySpan<byte> pixels, {Sys}.ReadOnlySpan<int> labels, float learningRate)", "pixels, labels, learningRate"),
        new("Infer", $"void Infer({Sys}.ReadOnlySpan<float> inputs, {Sys}.Span<float> logits)", "inputs, logits"),
        new("Infer", $"void Infer({Sys}.ReadOnlySpan<byte> pixels, {Sys}.Span<float> logits)", "pixels, logits"),
        new("FindNonFinite", "string? FindNonFinite()", ""),
        new("Summary", "string Summary()", ""),
        new("PhaseTimes", $"{Sys}.Collections.Generic.IReadOnlyList<{Rt}.PhaseTime> PhaseTimes", null),
        new("ResetPhaseTimes", "void ResetPhaseTimes()", ""),
        new("Dispose", "void Dispose()", ""),
    };

    /// <summary>Marks generated code for coverage tools and analyzers. It goes on each facade member, not
    /// on the partial class: the attribute allows one use, and the user may have put it there.</summary>
    public static readonly string GeneratedCode =
        $"[{Sys}.CodeDom.Compiler.GeneratedCode(\"GraphGen.Generator\", \"{typeof(FacadeEmitter).Assembly.GetName().Version!.ToString(3)}\")]";

    /// <summary>The file class's name: "Generated" + the class name, unless the outermost type of the
    /// file (the class, or the type it is nested in) has that name (CS9071).</summary>
    public static string ImplementationName(string className, EquatableArray<ContainingTypeModel> containingTypes)
    {
        string outermost = containingTypes.Count > 0 ? containingTypes[0].Name : className;
        string name = "Generated" + className;
        return name == outermost ? name + "_" : name;
    }

    /// <summary>Writes the namespace, the facade in its containing types, and the file class, whose
    /// members <paramref name="implementation"/> writes.</summary>
    public static void Emit(SourceWriter w, string? ns, EquatableArray<ContainingTypeModel> containingTypes, string className,
        IEnumerable<string> classSummary, string implementationSummary, Action implementation)
    {
        string name = NetworkEmitter.Identifier(className);
        string implementationName = ImplementationName(className, containingTypes);
        string qualified = (ns is null ? "global::" : "global::" + Namespace(ns) + ".") + implementationName;

        if (ns is not null) w.Open($"namespace {Namespace(ns)}");
        foreach (var outer in containingTypes) w.Open($"partial {outer.Keyword} {NetworkEmitter.Identifier(outer.Name)}");
        var summary = classSummary.ToList();
        if (summary.Count > 0)
        {
            w.Line("/// <summary>");
            foreach (string line in summary) w.Line("/// " + line);
            w.Line("/// </summary>");
        }
        w.Open($"partial class {name} : {Rt}.INetwork");
        w.Line("// The network: everything GraphGen generated for this class is in the file class " + implementationName + " below.");
        w.Line(GeneratedCode);
        w.Line($"private readonly {Rt}.INetwork {Field};");
        w.Line();
        w.Line("/// <summary>Creates the network with Xavier-uniform weights drawn from <paramref name=\"seed\"/>, zero biases,");
        w.Line("/// batch-norm γ = 1, β = 0, moving mean 0 and moving variance 1.</summary>");
        w.Line(GeneratedCode);
        w.Line($"public {name}(int seed = 0) : this(new {Rt}.NetworkOptions {{ Seed = seed }}) {{ }}");
        w.Line();
        w.Line("/// <summary>Creates the network with explicit options (seed, largest batch, threads, SIMD path).</summary>");
        w.Line(GeneratedCode);
        w.Line($"public {name}({Rt}.NetworkOptions options) => {Field} = new {qualified}(this, options);");
        foreach (var m in Members)
        {
            w.Line();
            w.Line("/// <inheritdoc/>");
            w.Line(GeneratedCode);
            w.Line($"public {m.Signature} => {Field}.{m.Name}{(m.Arguments is null ? "" : "(" + m.Arguments + ")")};");
        }
        w.Close();
        foreach (var _ in containingTypes) w.Close();
        w.Line();
        w.Line($"/// <summary>{implementationSummary}</summary>");
        w.Line(GeneratedCode);
        w.Open($"file sealed class {implementationName} : {Rt}.INetwork");
        implementation();
        w.Close();
        if (ns is not null) w.Close();
    }

    private static string Namespace(string ns) => string.Join(".", ns.Split('.').Select(NetworkEmitter.Identifier));
}
