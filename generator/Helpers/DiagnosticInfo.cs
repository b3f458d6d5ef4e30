using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace GraphGen.Generator.Helpers;

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
