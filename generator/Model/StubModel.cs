using GraphGen.Generator.Helpers;

namespace GraphGen.Generator.Model;

/// <summary>A network class with errors: where it lives and the first error, for the stub.</summary>
internal sealed record StubModel(string? Namespace, string ClassName, EquatableArray<ContainingTypeModel> ContainingTypes, string Error)
{
    public string HintName => (Namespace is null ? "" : Namespace + ".") + string.Concat(System.Linq.Enumerable.Select(ContainingTypes, t => t.Name + ".")) + ClassName + ".g.cs";
}
