using System;
using System.Linq;
using GraphGen.Generator.Parsing;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Xunit;

namespace GraphGen.Tests.Generator;

/// <summary>The reserved names (GG0009 for a class or a user member of that name) are the names the
/// generated facade really gives the user's class: its one field and the INetwork members. Every member
/// of every generated facade, a stub's included, is in the list and every name in the list is in every
/// facade; the list is INetwork's members and the field, nothing more; and everything else the generator
/// writes is in a file-local class, where no user name can clash with it.</summary>
public sealed class GeneratedNamesTests
{
    private const string Header = "using GraphGen;\n\nnamespace App;\n\n";
    private const string GeneratedCode = "global::System.CodeDom.Compiler.GeneratedCode";

    private static GeneratorRun RunAll()
    {
        var sources = BaselineTests.Networks.Select(n => Header + n.Value + $"\npublic partial class {n.Key} {{ }}\n")
            .Append(Header + "[Network(Channels = 1, Height = 4, Width = 4)] [Conv2D(6, Kernel = 5)] [Dense(3)]\npublic partial class Broken { }\n") // a stub (GG0010)
            .ToArray();
        var run = GeneratorHarness.Run(sources);
        Assert.Equal(BaselineTests.Networks.Count + 1, run.GeneratedSources.Length);
        return run;
    }

    [Fact]
    public void Every_member_of_a_generated_facade_is_reserved_and_every_reserved_name_is_a_member()
    {
        var run = RunAll();
        foreach (var source in run.GeneratedSources)
        {
            var root = CSharpSyntaxTree.ParseText(source.SourceText).GetRoot();
            // The types declared in the namespace (the file class's nested buffer types aside).
            var classes = root.DescendantNodes().OfType<ClassDeclarationSyntax>().Where(c => c.Parent is BaseNamespaceDeclarationSyntax).ToList();
            var facade = Assert.Single(classes, c => !c.Modifiers.Any(SyntaxKind.FileKeyword));
            var names = new System.Collections.Generic.SortedSet<string>(StringComparer.Ordinal);
            int constructors = 0;
            foreach (var member in facade.Members)
            {
                string[] declared = member switch
                {
                    ConstructorDeclarationSyntax => new string[0],
                    MethodDeclarationSyntax m => new[] { m.Identifier.ValueText },
                    PropertyDeclarationSyntax p => new[] { p.Identifier.ValueText },
                    BaseTypeDeclarationSyntax t => new[] { t.Identifier.ValueText },
                    BaseFieldDeclarationSyntax f => f.Declaration.Variables.Select(v => v.Identifier.ValueText).ToArray(),
                    _ => new[] { "unexpected member kind: " + member.Kind() },
                };
                if (member is ConstructorDeclarationSyntax) constructors++;
                foreach (string name in declared)
                {
                    Assert.True(GeneratedNames.Collides(name), $"{source.HintName}: the facade's {name} is not a reserved name");
                    names.Add(name);
                }
                // [GeneratedCode] on every facade member (the user's class declaration may carry its own).
                Assert.Contains(member.AttributeLists.SelectMany(l => l.Attributes), a => a.Name.ToString() == GeneratedCode);
            }
            Assert.Equal(2, constructors);
            Assert.Empty(facade.AttributeLists);
            Assert.Equal(names, GeneratedNames.All.OrderBy(n => n, StringComparer.Ordinal));

            // The rest is one file class, marked as generated too.
            var file = Assert.Single(classes, c => c.Modifiers.Any(SyntaxKind.FileKeyword));
            Assert.Contains(file.AttributeLists.SelectMany(l => l.Attributes), a => a.Name.ToString() == GeneratedCode);
        }
    }

    [Fact]
    public void The_reserved_names_are_the_members_of_INetwork_and_the_facade_field()
    {
        var members = typeof(INetwork).GetMembers().Concat(typeof(IDisposable).GetMembers())
            .Where(m => m is not System.Reflection.MethodInfo { IsSpecialName: true }) // property accessors
            .Select(m => m.Name)
            .Append("_graphGen");
        Assert.Equal(members.Distinct().OrderBy(n => n, StringComparer.Ordinal), GeneratedNames.All.OrderBy(n => n, StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Predict")]
    [InlineData("Accuracy")]
    [InlineData("_count")]
    [InlineData("Training")]
    [InlineData("Layer")]
    // Names that only the file class uses.
    [InlineData("_core")]
    [InlineData("Conv1Forward")]
    [InlineData("GraphGenBuffers")]
    [InlineData("Train0")]
    public void Ordinary_member_names_are_free(string name)
    {
        Assert.False(GeneratedNames.Collides(name));
    }
}
