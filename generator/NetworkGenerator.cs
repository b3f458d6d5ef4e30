using System.Collections.Immutable;
using System.Linq;
using GraphGen.Generator.Emitting;
using GraphGen.Generator.Helpers;
using GraphGen.Generator.Model;
using GraphGen.Generator.Parsing;
using GraphGen.Generator.Planning;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace GraphGen.Generator;

/// <summary>
/// The pipeline: [Network] classes → <see cref="Parser"/> (model + diagnostics) → on one branch the
/// diagnostics are reported, on the other the model is planned (<see cref="Planner"/>) and printed
/// (<see cref="NetworkEmitter"/>). Both branches see only equatable values, so an edit that does not
/// change a network's model does not re-run its emitter.
/// </summary>
[Generator(LanguageNames.CSharp)]
public sealed class NetworkGenerator : IIncrementalGenerator
{
    /// <summary>Tracking names of the pipeline stages, for the incremental tests.</summary>
    public static class Stages
    {
        public const string Parse = "GraphGen.Parse";
        public const string Models = "GraphGen.Models";
        public const string Diagnostics = "GraphGen.Diagnostics";
        public const string Orphans = "GraphGen.Orphans";
        public const string Stubs = "GraphGen.Stubs";
    }

    public void Initialize(IncrementalGeneratorInitializationContext context)
    {
        var parsed = context.SyntaxProvider
            .ForAttributeWithMetadataName(
                Parser.NetworkAttributeName,
                static (node, _) => node is TypeDeclarationSyntax,
                static (ctx, ct) => Parser.Parse(ctx, ct))
            .WithTrackingName(Stages.Parse);

        var models = parsed
            .Select(static (r, _) => r.Model)
            .Where(static m => m is not null)
            .WithTrackingName(Stages.Models);
        context.RegisterSourceOutput(models, static (spc, model) =>
        {
            var plan = Planner.Build(model!);
            spc.AddSource(model!.HintName, NetworkEmitter.Emit(plan));
        });

        var stubs = parsed
            .Select(static (r, _) => r.Stub)
            .Where(static s => s is not null)
            .WithTrackingName(Stages.Stubs);
        context.RegisterSourceOutput(stubs, static (spc, stub) => spc.AddSource(stub!.HintName, StubEmitter.Emit(stub)));

        // Diagnostics are reported against the compilation's own syntax trees (so #pragma and
        // [SuppressMessage] work); only this cheap reporting step sees the compilation.
        var diagnostics = parsed
            .Select(static (r, _) => r.Diagnostics)
            .Where(static d => d.Count > 0)
            .WithTrackingName(Stages.Diagnostics);
        context.RegisterSourceOutput(diagnostics.Combine(context.CompilationProvider), static (spc, pair) =>
        {
            foreach (var d in pair.Left) spc.ReportDiagnostic(d.ToDiagnostic(pair.Right));
        });

        // Layer attributes on a class without [Network]: warn once per class, from the provider of
        // the class's first layer attribute.
        foreach (var name in Parser.SequenceAttributes)
        {
            var orphans = context.SyntaxProvider
                .ForAttributeWithMetadataName(name,
                    static (node, _) => node is TypeDeclarationSyntax,
                    (ctx, _) => Orphan(ctx, name))
                .Where(static d => d is not null)
                .WithTrackingName(Stages.Orphans);
            context.RegisterSourceOutput(orphans.Combine(context.CompilationProvider), static (spc, pair) => spc.ReportDiagnostic(pair.Left!.ToDiagnostic(pair.Right)));
        }
    }

    private static DiagnosticInfo? Orphan(GeneratorAttributeSyntaxContext ctx, string attributeName)
    {
        if (ctx.TargetSymbol is not INamedTypeSymbol type) return null;
        var attributes = type.GetAttributes();
        if (attributes.Any(a => a.AttributeClass?.ToDisplayString() == Parser.NetworkAttributeName)) return null;
        var first = attributes
            .Where(a => a.AttributeClass is not null && Parser.SequenceAttributes.Contains(a.AttributeClass.ToDisplayString()) && a.ApplicationSyntaxReference is not null)
            .OrderBy(a => a.ApplicationSyntaxReference!.SyntaxTree.FilePath, System.StringComparer.Ordinal)
            .ThenBy(a => a.ApplicationSyntaxReference!.Span.Start)
            .FirstOrDefault();
        if (first is null || first.AttributeClass!.ToDisplayString() != attributeName) return null;
        if (first.ApplicationSyntaxReference!.GetSyntax().FirstAncestorOrSelf<TypeDeclarationSyntax>() != ctx.TargetNode) return null;
        return DiagnosticInfo.Create(DiagnosticDescriptors.LayersWithoutNetwork, ((TypeDeclarationSyntax)ctx.TargetNode).Identifier.GetLocation(), type.Name);
    }
}
