using System.Collections.Generic;
using System.Linq;
using GraphGen.Generator.Emitting;

namespace GraphGen.Generator.Parsing;

/// <summary>The member names GraphGen gives the user's network class: its facade's field and the
/// INetwork members it forwards (the constructors are checked apart). Everything else it generates is in
/// a file class that no user name can clash with. A class cannot contain a member with its own name
/// (CS0542), so a network class may not be called any of these, and a member the user writes in the
/// class may not have one of them either (CS0102 or CS0111 in the generated file otherwise).
/// GeneratedNamesTests checks every member of the generated facades against this list.</summary>
internal static class GeneratedNames
{
    private static readonly HashSet<string> Names = new(FacadeEmitter.Members.Select(m => m.Name).Append(FacadeEmitter.Field));

    /// <summary>Every reserved name.</summary>
    public static IReadOnlyCollection<string> All => Names;

    /// <summary>True when the generated facade has a member called <paramref name="name"/>.</summary>
    public static bool Collides(string name) => Names.Contains(name);
}
