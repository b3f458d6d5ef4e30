using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using GraphGen.Generator.Model;

namespace GraphGen.Generator.Layers;

/// <summary>
/// Everything the generator knows about one activation function, in one place: the attribute that
/// declares it, the stem of its layer names, whether it keeps order (so a max pool may run before it),
/// and the vector expressions of the function and its derivative that the fused epilogues inline.
/// One sealed class per activation in <c>Layers/Activations/</c>; <see cref="All"/> lists them, and the
/// parser, the shape rules, the planner and the emitter look activations up here.
/// </summary>
internal abstract class ActivationKind
{
    public abstract LayerKind Kind { get; }
    /// <summary>Metadata name of the attribute (nameof of the linked attribute class).</summary>
    public abstract string AttributeName { get; }
    /// <summary>Layers of this kind are named stem1, stem2, ... (and so are their checkpoint tensors).</summary>
    public abstract string Stem { get; }
    /// <summary>x ≤ y implies f(x) ≤ f(y): the epilogue may take a max pool's max before applying it.</summary>
    public virtual bool IsMonotonic => true;
    /// <summary>The derivative is computed from the activation's input; otherwise from its output.</summary>
    public virtual bool GradientFromInput => false;

    /// <summary>f(<paramref name="x"/>), a vector expression (TV, S in scope).</summary>
    public abstract string Forward(LayerModel layer, string x);
    /// <summary>f'(·) from the activation's <paramref name="output"/> or, when
    /// <see cref="GradientFromInput"/>, its <paramref name="input"/>.</summary>
    public abstract string Derivative(LayerModel layer, string output, string input);

    protected const string VMath = "global::GraphGen.Simd.VMath";

    protected static string Single(double value) => ((float)value).ToString("R", CultureInfo.InvariantCulture) + "f";

    public static readonly IReadOnlyList<ActivationKind> All = new ActivationKind[]
    {
        new Activations.Sigmoid(), new Activations.ReLU(), new Activations.Tanh(), new Activations.LeakyReLU(), new Activations.SiLU(),
    };

    private static readonly Dictionary<LayerKind, ActivationKind> ByKind = All.ToDictionary(a => a.Kind);

    /// <summary>The definition of <paramref name="kind"/>, or null when it is not an activation.</summary>
    public static ActivationKind? Of(LayerKind kind) => ByKind.TryGetValue(kind, out var a) ? a : null;
}
