using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using GraphGen.Generator.Helpers;
using GraphGen.Generator.Layers;
using GraphGen.Generator.Model;
using GraphGen.Generator.Vocabulary;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GraphGen.Generator.Parsing;

/// <summary>
/// Reads a [Network] class: checks the declaration, turns the layer attributes (in source order)
/// into <see cref="LayerSpec"/>s, runs <see cref="ShapeInference"/> and maps each finding to the
/// attribute or argument at fault. Returns plain data only; never throws on bad input.
/// </summary>
internal static class Parser
{
    public const string Namespace = "GraphGen";
    public const string NetworkAttributeName = Namespace + "." + nameof(NetworkAttribute);

    /// <summary>Metadata names of the layer attributes and the kind each one declares (the definitions in
    /// Layers/; the block kinds are made by their closing markers).</summary>
    public static readonly IReadOnlyDictionary<string, LayerKind> LayerAttributes = LayerDefinition.All
        .Where(d => d.ClosingMarker == Marker.None).ToDictionary(d => Namespace + "." + d.AttributeName, d => d.Kind);

    /// <summary>Metadata names of the block markers. They are ordered with the layers; [EndResidual]
    /// makes the block's Add layer.</summary>
    public static readonly IReadOnlyDictionary<string, Marker> MarkerAttributes = new Dictionary<string, Marker>
    {
        [Namespace + "." + nameof(ResidualAttribute)] = Marker.Residual,
        [Namespace + "." + nameof(ShortcutAttribute)] = Marker.Shortcut,
        [Namespace + "." + nameof(EndResidualAttribute)] = Marker.EndResidual,
        [Namespace + "." + nameof(ConcatAttribute)] = Marker.Concat,
        [Namespace + "." + nameof(BranchAttribute)] = Marker.Branch,
        [Namespace + "." + nameof(EndConcatAttribute)] = Marker.EndConcat,
    };

    /// <summary>Every attribute that takes a place in the layer sequence.</summary>
    public static IEnumerable<string> SequenceAttributes => LayerAttributes.Keys.Concat(MarkerAttributes.Keys);

    public static ParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        if (context.TargetSymbol is not INamedTypeSymbol type) return Result(null, diagnostics);
        var typeSyntax = (TypeDeclarationSyntax)context.TargetNode;
        Location identifier = typeSyntax.Identifier.GetLocation();
        string typeName = type.Name;

        // [Network] twice is already CS0579; the second declaration must not generate a second file.
        var networkAttributes = type.GetAttributes().Where(a => a.AttributeClass?.ToDisplayString() == NetworkAttributeName).ToList();
        if (networkAttributes.Count != 1 || !ReferenceEquals(networkAttributes[0].ApplicationSyntaxReference?.GetSyntax(cancellationToken).Parent?.Parent, typeSyntax))
            return Result(null, diagnostics);

        // The declaration itself.
        string? kind = type.TypeKind switch
        {
            TypeKind.Struct => type.IsRecord ? "a record struct" : "a struct",
            TypeKind.Interface => "an interface",
            TypeKind.Class when type.IsRecord => "a record",
            TypeKind.Class when type.IsStatic => "a static class",
            TypeKind.Class when type.IsAbstract => "an abstract class",
            TypeKind.Class => null,
            _ => "not a class",
        };
        if (kind is not null) diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedTypeKind, identifier, typeName, kind));
        if (type.Arity > 0)
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.Generic, identifier, typeName, "is generic", "remove the type parameters"));
        else if (ContainingTypes(type).FirstOrDefault(t => t.IsGenericType) is { } genericOuter)
        {
            string outer = genericOuter.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat);
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.Generic, identifier, typeName, $"is nested in the generic type '{outer}'", $"move it out of '{outer}'"));
        }
        if (type.IsFileLocal || ContainingTypes(type).Any(t => t.IsFileLocal))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.FileLocal, identifier, typeName));
        var declarations = type.DeclaringSyntaxReferences.Select(r => r.GetSyntax(cancellationToken)).OfType<TypeDeclarationSyntax>().ToList();
        if (declarations.Any(d => d.ParameterList is not null))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.PrimaryConstructor, identifier, typeName));
        else if (GeneratedNames.Collides(typeName))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ClassNamedLikeMember, identifier, typeName));
        CheckUserMembers(type, typeName, diagnostics);
        if (declarations.Any(d => !d.Modifiers.Any(SyntaxKind.PartialKeyword)))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NotPartial, identifier, typeName));
        foreach (INamedTypeSymbol outer in ContainingTypes(type))
        {
            foreach (var reference in outer.DeclaringSyntaxReferences)
            {
                if (reference.GetSyntax(cancellationToken) is TypeDeclarationSyntax outerSyntax && !outerSyntax.Modifiers.Any(SyntaxKind.PartialKeyword))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ContainingTypeNotPartial, outerSyntax.Identifier.GetLocation(), typeName, outer.Name));
                    break;
                }
            }
        }

        // From here on the declaration is sound: if the network is not, a stub keeps code that uses
        // the class compiling, so the GG error is the only one.
        bool declarationOk = diagnostics.Count == 0;
        ParseResult Fail(string? reason = null) => declarationOk ? Failed(type, diagnostics, reason) : Result(null, diagnostics);

        // The layers, in source order.
        var layerAttributes = new List<(AttributeData Data, AttributeSyntax Syntax, LayerKind Kind, Marker Marker)>();
        foreach (AttributeData attribute in type.GetAttributes())
        {
            string? name = attribute.AttributeClass?.ToDisplayString();
            if (name is null) continue;
            LayerKind layerKind = LayerKind.Add;
            Marker marker = Marker.None;
            if (!LayerAttributes.TryGetValue(name, out layerKind) && !MarkerAttributes.TryGetValue(name, out marker)) continue;
            // A closing marker makes its block's layer; the other markers make none (their kind is never read).
            if (marker != Marker.None) layerKind = LayerDefinition.All.FirstOrDefault(d => d.ClosingMarker == marker)?.Kind ?? LayerKind.Add;
            if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is not AttributeSyntax syntax) continue;
            layerAttributes.Add((attribute, syntax, layerKind, marker));
        }
        var owners = layerAttributes.Select(a => a.Syntax.FirstAncestorOrSelf<TypeDeclarationSyntax>()).Distinct().ToList();
        if (owners.Count > 1)
        {
            var stray = layerAttributes.First(a => a.Syntax.FirstAncestorOrSelf<TypeDeclarationSyntax>() != owners[0]);
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.LayersSplit, stray.Syntax.GetLocation(), typeName));
            return Fail();
        }
        layerAttributes.Sort((a, b) => a.Syntax.SpanStart.CompareTo(b.Syntax.SpanStart));
        if (layerAttributes.Count == 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoLayers, identifier, typeName));
            return Fail();
        }

        // Arguments. An attribute with a C# error (a wrong argument type, say) is already reported
        // by the compiler: stop quietly rather than guess.
        var networkData = networkAttributes[0];
        if (HasErrors(networkData) || layerAttributes.Any(a => HasErrors(a.Data))) return Fail("a C# error in its attributes");
        var input = new InputSpec(
            NamedIntOrNull(networkData, nameof(NetworkAttribute.Channels)), NamedIntOrNull(networkData, nameof(NetworkAttribute.Height)),
            NamedIntOrNull(networkData, nameof(NetworkAttribute.Width)), NamedIntOrNull(networkData, nameof(NetworkAttribute.Features)));
        var specs = new List<LayerSpec>();
        foreach (var (data, syntax, layerKind, marker) in layerAttributes)
            specs.Add(marker == Marker.None ? ReadLayer(data, syntax, layerKind, diagnostics) : new LayerSpec(layerKind, 0, 0, false, 0, 0, 0, 0, 0, marker));
        if (diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error)) return Fail();

        var (inputShape, layers, findings) = ShapeInference.Infer(input, specs);
        var networkSyntax = (AttributeSyntax)networkData.ApplicationSyntaxReference!.GetSyntax(cancellationToken);
        foreach (ShapeDiagnostic finding in findings)
        {
            var (data, where) = finding.Layer < 0 ? (networkData, networkSyntax) : (layerAttributes[finding.Layer].Data, layerAttributes[finding.Layer].Syntax);
            diagnostics.Add(DiagnosticInfo.Create(finding.Descriptor, ArgumentLocation(where, data.AttributeConstructor, finding.Argument), finding.Arguments));
        }
        if (layers is null || diagnostics.Any(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error)) return Fail();

        cancellationToken.ThrowIfCancellationRequested();
        var model = new NetworkModel(NamespaceOf(type), typeName, ContainingModels(type), inputShape, layers.ToEquatableArray());
        if (ArenaCheck.Check(model) is { } arena) diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.ArenaTooLarge, identifier, arena));
        return Result(model, diagnostics);
    }

    /// <summary>Members the user wrote that the generated code would clash with or bypass: an
    /// instance constructor (the generated ones initialize the network; a user's would leave it
    /// uninitialized) and a member with the name of a generated one (CS0102/CS0111 in the generated
    /// file otherwise). Each is reported on the user's member.</summary>
    private static void CheckUserMembers(INamedTypeSymbol type, string typeName, List<DiagnosticInfo> diagnostics)
    {
        foreach (ISymbol member in type.GetMembers())
        {
            if (member.IsImplicitlyDeclared || member.Locations.FirstOrDefault(l => l.IsInSource) is not { } location) continue;
            if (member is IMethodSymbol { MethodKind: MethodKind.Constructor } constructor)
            {
                // A primary constructor is declared by the type declaration itself (reported above).
                if (constructor.DeclaringSyntaxReferences.Any(r => r.GetSyntax() is TypeDeclarationSyntax)) continue;
                string signature = typeName + "(" + string.Join(", ", constructor.Parameters.Select(p => p.Type.ToDisplayString(SymbolDisplayFormat.MinimallyQualifiedFormat))) + ")";
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UserConstructor, location, signature));
            }
            else if (member is not IMethodSymbol { MethodKind: not MethodKind.Ordinary } && GeneratedNames.Collides(member.Name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MemberNamedLikeGenerated, location, member.Name, typeName));
            }
        }
    }

    private static ParseResult Result(NetworkModel? model, List<DiagnosticInfo> diagnostics, StubModel? stub = null) => new(model, diagnostics.ToEquatableArray(), stub);

    /// <summary>After the declaration checks passed, a failing network still gets a stub class part.</summary>
    private static ParseResult Failed(INamedTypeSymbol type, List<DiagnosticInfo> diagnostics, string? reason)
    {
        var first = diagnostics.FirstOrDefault(d => d.Descriptor.DefaultSeverity == DiagnosticSeverity.Error);
        reason ??= first is null ? null : $"error {first.Descriptor.Id}";
        var stub = reason is null ? null : new StubModel(NamespaceOf(type), type.Name, ContainingModels(type), reason);
        return Result(null, diagnostics, stub);
    }

    private static string? NamespaceOf(INamedTypeSymbol type)
    {
        string? ns = null; // raw names joined by '.', escaped by the emitter
        for (var n = type.ContainingNamespace; n is { IsGlobalNamespace: false }; n = n.ContainingNamespace)
            ns = ns is null ? n.Name : n.Name + "." + ns;
        return ns;
    }

    private static EquatableArray<ContainingTypeModel> ContainingModels(INamedTypeSymbol type) => ContainingTypes(type).Reverse()
        .Select(t => new ContainingTypeModel(t.TypeKind == TypeKind.Struct ? (t.IsRecord ? "record struct" : "struct") : t.IsRecord ? "record" : t.TypeKind == TypeKind.Interface ? "interface" : "class", t.Name))
        .ToEquatableArray();

    private static IEnumerable<INamedTypeSymbol> ContainingTypes(INamedTypeSymbol type)
    {
        for (var t = type.ContainingType; t is not null; t = t.ContainingType) yield return t;
    }

    private static bool HasErrors(AttributeData data) =>
        data.AttributeClass is null or IErrorTypeSymbol || data.AttributeConstructor is null ||
        data.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error) ||
        data.NamedArguments.Any(a => a.Value.Kind == TypedConstantKind.Error);

    private static LayerSpec ReadLayer(AttributeData data, AttributeSyntax syntax, LayerKind kind, List<DiagnosticInfo> diagnostics) =>
        LayerDefinition.Of(kind).Read(new ArgumentReader(data, syntax, kind, diagnostics));

    /// <summary>A layer attribute's arguments for its <see cref="LayerDefinition"/>, which sees no Roslyn types.</summary>
    private sealed class ArgumentReader : IArgumentReader
    {
        private readonly AttributeData _data;
        private readonly AttributeSyntax _syntax;
        private readonly LayerKind _kind;
        private readonly List<DiagnosticInfo> _diagnostics;

        public ArgumentReader(AttributeData data, AttributeSyntax syntax, LayerKind kind, List<DiagnosticInfo> diagnostics) =>
            (_data, _syntax, _kind, _diagnostics) = (data, syntax, kind, diagnostics);

        public int PositionalCount => _data.ConstructorArguments.Length;
        public object? Positional(int index) => index < _data.ConstructorArguments.Length ? _data.ConstructorArguments[index].Value : null;
        public bool HasNamed(string name) => _data.NamedArguments.Any(a => a.Key == name);
        public object? Named(string name)
        {
            foreach (var pair in _data.NamedArguments)
                if (pair.Key == name) return pair.Value.Value;
            return null;
        }
        public void ReportDuplicate(string argument) => _diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DuplicateArgument,
            ArgumentLocation(_syntax, _data.AttributeConstructor, argument, preferNamed: true), _kind.ToString(), argument));
    }

    /// <summary>The named argument's value, or null where it is not given (so that "= 0" is not taken for "missing").</summary>
    private static int? NamedIntOrNull(AttributeData data, string name)
    {
        foreach (var pair in data.NamedArguments)
            if (pair.Key == name && pair.Value.Value is int v) return v;
        return null;
    }

    /// <summary>The argument called <paramref name="name"/> (named, or the positional one whose
    /// constructor parameter has that name), else the whole attribute.</summary>
    private static Location ArgumentLocation(AttributeSyntax attribute, IMethodSymbol? constructor, string? name, bool preferNamed = false)
    {
        if (name is null || attribute.ArgumentList is null) return attribute.GetLocation();
        var arguments = attribute.ArgumentList.Arguments;
        foreach (var argument in arguments)
            if (argument.NameEquals?.Name.Identifier.ValueText == name) return argument.GetLocation();
        if (preferNamed || constructor is null) return attribute.GetLocation();
        int position = 0;
        foreach (var argument in arguments)
        {
            if (argument.NameEquals is not null) continue;
            string? parameter = argument.NameColon?.Name.Identifier.ValueText
                ?? (position < constructor.Parameters.Length ? constructor.Parameters[position].Name : null);
            position++;
            if (string.Equals(parameter, name, StringComparison.OrdinalIgnoreCase)) return argument.GetLocation();
        }
        return attribute.GetLocation();
    }
}
