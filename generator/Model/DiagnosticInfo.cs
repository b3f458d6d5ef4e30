using GraphGen.Generator.Helpers;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace GraphGen.Generator.Model;

/// <summary>Where a diagnostic points, kept as plain values: a <see cref="Location"/> would hold the
/// syntax tree alive and defeat caching.</summary>
internal sealed record LocationInfo(string FilePath, TextSpan Span, LinePositionSpan LineSpan)
{
    public static LocationInfo? From(Location? location) =>
        location is null || !location.IsInSource ? null
            : new LocationInfo(location.SourceTree!.FilePath, location.SourceSpan, location.GetLineSpan().Span);

    /// <summary>A location in <paramref name="compilation"/>'s own syntax tree when it has one with this
    /// path: only such locations honour #pragma warning disable and [SuppressMessage].</summary>
    public Location ToLocation(Compilation? compilation)
    {
        if (compilation is not null)
            foreach (SyntaxTree tree in compilation.SyntaxTrees)
                if (tree.FilePath == FilePath && Span.End <= tree.Length) return Location.Create(tree, Span);
        return Location.Create(FilePath, Span, LineSpan);
    }
}

/// <summary>A diagnostic to report: descriptor, location and message arguments, all equatable.</summary>
internal sealed record DiagnosticInfo(DiagnosticDescriptor Descriptor, LocationInfo? Location, EquatableArray<string> Arguments)
{
    public static DiagnosticInfo Create(DiagnosticDescriptor descriptor, Location? location, params object[] arguments)
    {
        var args = new string[arguments.Length];
        for (int i = 0; i < arguments.Length; i++) args[i] = System.Convert.ToString(arguments[i], System.Globalization.CultureInfo.InvariantCulture) ?? "";
        return new DiagnosticInfo(descriptor, LocationInfo.From(location), args.ToEquatableArray());
    }

    public Diagnostic ToDiagnostic(Compilation? compilation)
    {
        var args = new object[Arguments.Count];
        for (int i = 0; i < args.Length; i++) args[i] = Arguments[i];
        return Diagnostic.Create(Descriptor, Location?.ToLocation(compilation), args);
    }
}

/// <summary>What the parser returns for one [Network] class: a model (null when an error was
/// found), the diagnostics to report, and, when the declaration itself is fine but the network is
/// not, a stub to emit so that code using the class compiles and the GG error stands alone.</summary>
internal sealed record ParseResult(NetworkModel? Model, EquatableArray<DiagnosticInfo> Diagnostics, StubModel? Stub = null);

/// <summary>A network class with errors: where it lives and the first error, for the stub.</summary>
internal sealed record StubModel(string? Namespace, string ClassName, EquatableArray<ContainingTypeModel> ContainingTypes, string Error)
{
    public string HintName => (Namespace is null ? "" : Namespace + ".") + string.Concat(System.Linq.Enumerable.Select(ContainingTypes, t => t.Name + ".")) + ClassName + ".g.cs";
}
