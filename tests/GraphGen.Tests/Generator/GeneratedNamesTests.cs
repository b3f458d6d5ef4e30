using System.Linq;
using GraphGen.Generator.Parsing;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>The reserved names (GG0009 for a class or a user member of that name) are the names the
/// emitter really gives the network class's members: every member of every generated baseline
/// network, and of a stub, is in the list, so a new generated member cannot silently clash with a
/// user's again (CS0102 in the generated file).</summary>
public sealed class GeneratedNamesTests
{
    private const string Header = "using GraphGen;\n\nnamespace App;\n\n";

    [Fact]
    public void Every_member_of_a_generated_network_is_reserved()
    {
        var sources = BaselineTests.Networks.Select(n => Header + n.Value + $"\npublic partial class {n.Key} {{ }}\n")
            .Append(Header + "[Network(Channels = 1, Height = 4, Width = 4)] [Conv2D(6, Kernel = 5)] [Dense(3)]\npublic partial class Broken { }\n") // a stub (GG0010)
            .ToArray();
        var run = GeneratorHarness.Run(sources);
        Assert.Equal(BaselineTests.Networks.Count + 1, run.GeneratedSources.Length);
        int checkedMembers = 0;
        var missing = new System.Collections.Generic.SortedSet<string>();
        foreach (var source in run.GeneratedSources)
        {
            var root = CSharpSyntaxTree.ParseText(source.SourceText).GetRoot();
            var network = root.DescendantNodes().OfType<ClassDeclarationSyntax>().First();
            foreach (var member in network.Members)
            {
                string[] names = member switch
                {
                    ConstructorDeclarationSyntax => new string[0],
                    MethodDeclarationSyntax m => new[] { m.Identifier.ValueText },
                    PropertyDeclarationSyntax p => new[] { p.Identifier.ValueText },
                    BaseTypeDeclarationSyntax t => new[] { t.Identifier.ValueText },
                    BaseFieldDeclarationSyntax f => f.Declaration.Variables.Select(v => v.Identifier.ValueText).ToArray(),
                    _ => new[] { "unexpected member kind: " + member.Kind() },
                };
                foreach (string name in names)
                {
                    if (!GeneratedNames.Collides(name)) missing.Add(name);
                    checkedMembers++;
                }
            }
        }
        Assert.True(missing.Count == 0, "generated members missing from GeneratedNames: " + string.Join(", ", missing));
        Assert.True(checkedMembers > 300, $"only {checkedMembers} members found");
    }

    [Theory]
    [InlineData("Predict")]
    [InlineData("Accuracy")]
    [InlineData("_count")]
    [InlineData("Training")]
    [InlineData("Layer")]
    public void Ordinary_member_names_are_free(string name)
    {
        Assert.False(GeneratedNames.Collides(name));
    }
}
