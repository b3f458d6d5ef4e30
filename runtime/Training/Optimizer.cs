using System;
using System.Collections.Generic;
using System.Runtime.CompilerServices;
using GraphGen.Execution;

namespace GraphGen.Training;

/// <summary>
/// Updates a network's parameters from their gradients at the end of every training step. Attach one
/// to a network (<see cref="Attach"/>, or <see cref="TrainOptions.Optimizer"/>) and each
/// <see cref="INetwork.TrainStep(ReadOnlySpan{float}, ReadOnlySpan{int}, float)"/> of that network
/// runs it with the step's learning rate; a network with none attached does plain SGD, w −= lr·g.
///
/// <para>What every optimizer shares: weight decay (<see cref="WeightDecay"/>), applied by default to
/// every parameter except biases and batch-norm γ/β (see <see cref="DecayFilter"/>); clipping of the
/// gradient by its global norm (<see cref="MaxGradientNorm"/>); and its state, the moments and the
/// step count, held as named tensors of kind <see cref="TensorKind.OptimizerState"/> (<see cref="State"/>)
/// that <see cref="Checkpoints.Checkpoint"/> saves and loads, so a resumed run continues bit for bit.</para>
///
/// <para>The update runs after the backward pass, tensor by tensor, in float32 (like PyTorch's), and
/// allocates nothing: the state is allocated once, by <see cref="Attach"/>.</para>
/// </summary>
public abstract class Optimizer
{
    /// <summary>Every state tensor's name starts with this: "optimizer.step", "optimizer.conv1.weight.exp_avg".</summary>
    public const string Prefix = "optimizer.";

    /// <summary>The step-count tensor: one float, exact up to 2^24 = 16,777,216 steps.</summary>
    public const string StepTensor = Prefix + "step";

    private const long MaxSteps = 1L << 24;
    private static readonly ConditionalWeakTable<INetwork, Optimizer> s_attached = new();

    private INetwork? _network;
    private int[] _parameters = [];
    private bool[] _decays = [];
    private float[][] _slots = [];
    private int _slotCount;
    private int _tensorCount;
    private readonly float[] _step = new float[1];
    private TensorInfo[] _state = [];
    private readonly Dictionary<string, float[]> _byName = new(StringComparer.Ordinal);

    private protected Optimizer() { }

    /// <summary>Weight decay λ (default 0). <see cref="Sgd"/> and <see cref="Adam"/> add λ·w to the gradient
    /// (L2 regularization, PyTorch's <c>weight_decay</c>); <see cref="AdamW"/> decouples it: w ← w·(1 − lr·λ).</summary>
    public float WeightDecay { get; init; }

    /// <summary>Clip the gradient by its global norm: when ‖g‖₂ over all parameters together exceeds this,
    /// every gradient is scaled by max / (‖g‖₂ + 1e-6) before the update (PyTorch's
    /// <c>clip_grad_norm_</c>; the norm is summed in double). 0 (the default) turns clipping off.</summary>
    public double MaxGradientNorm { get; init; }

    /// <summary>Which parameters weight decay applies to. Default <see cref="DecaysByDefault"/>: all but
    /// the rank-1 ones, which are the biases and the batch-norm γ and β.</summary>
    public Func<TensorInfo, bool> DecayFilter { get; init; } = DecaysByDefault;

    /// <summary>True for tensors of rank 2 or more (convolution and dense weights); false for biases and batch-norm γ/β.</summary>
    public static bool DecaysByDefault(TensorInfo tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.Shape.Length > 1;
    }

    /// <summary>Steps taken since the state was created or loaded.</summary>
    public long Steps => (long)_step[0];

    /// <summary>The global gradient norm of the last step, before clipping (NaN when clipping is off).</summary>
    public double LastGradientNorm { get; private set; } = double.NaN;

    /// <summary>The network this optimizer is attached to, or null.</summary>
    public INetwork? Network => _network;

    /// <summary>A short name of the algorithm ("Sgd", "Adam", "AdamW"); checkpoints record it.</summary>
    public string Kind => GetType().Name;

    /// <summary>The state tensors (empty until attached): <see cref="StepTensor"/>, then per parameter and
    /// slot "optimizer.&lt;parameter&gt;.&lt;slot&gt;" with the parameter's shape (slots are PyTorch's names:
    /// momentum_buffer, exp_avg, exp_avg_sq).</summary>
    public IReadOnlyList<TensorInfo> State => _state;

    /// <summary>The values of state tensor <paramref name="name"/> (writable, as a checkpoint load needs).</summary>
    public Span<float> StateTensor(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_byName.TryGetValue(name, out float[]? values)) return values;
        throw new ArgumentException(_network is null
            ? $"the {Kind} optimizer is not attached to a network yet, so it has no state tensors"
            : $"the {Kind} optimizer has no state tensor '{name}'; it has: {string.Join(", ", _byName.Keys)}", nameof(name));
    }

    /// <summary>The optimizer attached to <paramref name="network"/>, or null (plain SGD).</summary>
    public static Optimizer? Of(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        return s_attached.TryGetValue(network, out Optimizer? o) ? o : null;
    }

    /// <summary>Makes <paramref name="network"/> train with plain SGD again. Its state stays with the optimizer.</summary>
    public static void Detach(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        s_attached.Remove(network);
    }

    /// <summary>
    /// Makes every training step of <paramref name="network"/> use this optimizer, replacing any other one.
    /// The first call checks the settings and allocates the state (zeros, step 0); attaching again to
    /// the same network keeps the state. Not while the network trains on another thread.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range (the message names it).</exception>
    /// <exception cref="InvalidOperationException">This optimizer already serves another network.</exception>
    public void Attach(INetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (_network is not null && !ReferenceEquals(_network, network))
            throw new InvalidOperationException($"this {Kind} optimizer already holds the state of {_network.Name}; create one optimizer per network");
        if (_network is null)
        {
            Validate();
            Allocate(network);
            _network = network;
        }
        s_attached.AddOrUpdate(network, this);
    }

    private void Allocate(INetwork network)
    {
        string[] slotNames = SlotNames;
        var parameters = new List<int>();
        var decays = new List<bool>();
        var state = new List<TensorInfo> { new(StepTensor, [1], TensorKind.OptimizerState) };
        var slots = new List<float[]>();
        _byName[StepTensor] = _step;
        for (int i = 0; i < network.Tensors.Count; i++)
        {
            TensorInfo t = network.Tensors[i];
            if (t.Kind != TensorKind.Parameter) continue;
            parameters.Add(i);
            decays.Add(DecayFilter(t));
            foreach (string slot in slotNames)
            {
                var info = new TensorInfo($"{Prefix}{t.Name}.{slot}", (int[])t.Shape.Clone(), TensorKind.OptimizerState);
                var values = new float[t.Length];
                state.Add(info);
                slots.Add(values);
                _byName[info.Name] = values;
            }
        }
        _parameters = parameters.ToArray();
        _decays = decays.ToArray();
        _slots = slots.ToArray();
        _slotCount = slotNames.Length;
        _tensorCount = network.Tensors.Count;
        _state = state.ToArray();
    }

    private void Validate()
    {
        if (!float.IsFinite(WeightDecay) || WeightDecay < 0)
            throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "the weight decay must be finite and not negative");
        if (!double.IsFinite(MaxGradientNorm) || MaxGradientNorm < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxGradientNorm), MaxGradientNorm, "the maximum gradient norm must be finite and not negative (0: no clipping)");
        if (DecayFilter is null) throw new ArgumentNullException(nameof(DecayFilter));
        ValidateSettings();
    }

    /// <summary>Checks the algorithm's own settings.</summary>
    private protected abstract void ValidateSettings();

    /// <summary>The per-parameter state slots, in PyTorch's names.</summary>
    private protected abstract string[] SlotNames { get; }

    /// <summary>Slot <paramref name="slot"/> of parameter number <paramref name="parameter"/>.</summary>
    private protected float[] Slot(int parameter, int slot) => _slots[parameter * _slotCount + slot];

    /// <summary>Updates one parameter in place. <paramref name="step"/> is 1 on the first step;
    /// <paramref name="decay"/> is <see cref="WeightDecay"/>, or 0 where the filter excludes the tensor.</summary>
    private protected abstract void Step(float[] weights, float[] gradient, int parameter, float learningRate, float decay, long step);

    /// <summary>One update of the attached network's parameters (called from its training step).</summary>
    internal virtual bool Apply(NetworkCore core, float learningRate)
    {
        if (core.Tensors.Length != _tensorCount)
            throw new InvalidOperationException($"the {Kind} optimizer was attached to {_network!.Name}, whose {_tensorCount} tensors are not the {core.Tensors.Length} of {core.Name}");
        long step = Steps + 1;
        if (step > MaxSteps)
            throw new InvalidOperationException($"the {Kind} optimizer has taken {Steps:N0} steps, the most its float32 step count holds exactly");
        if (MaxGradientNorm > 0) Clip(core);
        bool finite = true;
        for (int p = 0; p < _parameters.Length; p++)
        {
            float[] weights = core.Values(_parameters[p]);
            Step(weights, core.Grad(_parameters[p]), p, learningRate, _decays[p] ? WeightDecay : 0f, step);
            finite &= Kernels.AllFinite(weights);
        }
        _step[0] = step;
        return finite;
    }

    private void Clip(NetworkCore core)
    {
        double sum = 0;
        foreach (int i in _parameters)
            foreach (float g in core.Grad(i)) sum += (double)g * g;
        double norm = Math.Sqrt(sum);
        LastGradientNorm = norm;
        double coefficient = MaxGradientNorm / (norm + 1e-6);
        if (!(coefficient < 1)) return;
        float scale = (float)coefficient;
        foreach (int i in _parameters)
        {
            float[] g = core.Grad(i);
            for (int k = 0; k < g.Length; k++) g[k] *= scale;
        }
    }

    /// <summary>Swaps the optimizer of <paramref name="network"/> without the checks of <see cref="Attach"/>
    /// (used to run steps that must not change the parameters); returns the previous one.</summary>
    internal static Optimizer? Swap(INetwork network, Optimizer? replacement)
    {
        Optimizer? previous = Of(network);
        if (replacement is null) s_attached.Remove(network);
        else s_attached.AddOrUpdate(network, replacement);
        return previous;
    }
}

/// <summary>
/// Stochastic gradient descent with optional momentum and Nesterov momentum, as PyTorch's
/// <c>torch.optim.SGD</c> (dampening 0; https://pytorch.org/docs/stable/generated/torch.optim.SGD.html):
/// d = g + λ·w; with momentum μ, b = d on the first step and b = μ·b + d after, then d = b, or d + μ·b
/// with Nesterov; w ← w − lr·d. Without momentum and decay it is exactly the plain update w −= lr·g.
/// </summary>
public sealed class Sgd : Optimizer
{
    /// <summary>Momentum μ in [0, 1) (default 0: none).</summary>
    public float Momentum { get; init; }

    /// <summary>Nesterov momentum (needs <see cref="Momentum"/> &gt; 0).</summary>
    public bool Nesterov { get; init; }

    private protected override string[] SlotNames => Momentum == 0 ? [] : ["momentum_buffer"];

    private protected override void ValidateSettings()
    {
        if (!(Momentum >= 0 && Momentum < 1))
            throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "the momentum must be in [0, 1)");
        if (Nesterov && Momentum == 0)
            throw new ArgumentOutOfRangeException(nameof(Nesterov), Nesterov, "Nesterov momentum needs a momentum above 0");
    }

    private protected override void Step(float[] weights, float[] gradient, int parameter, float learningRate, float decay, long step)
    {
        if (Momentum == 0)
        {
            if (decay == 0) { Kernels.SgdStep(weights, gradient, learningRate); return; }
            for (int i = 0; i < weights.Length; i++) weights[i] -= learningRate * (gradient[i] + decay * weights[i]);
            return;
        }
        float mu = Momentum;
        float[] buffer = Slot(parameter, 0);
        for (int i = 0; i < weights.Length; i++)
        {
            float d = decay == 0 ? gradient[i] : gradient[i] + decay * weights[i];
            float b = step == 1 ? d : mu * buffer[i] + d;
            buffer[i] = b;
            weights[i] -= learningRate * (Nesterov ? d + mu * b : b);
        }
    }
}

/// <summary>
/// Adam (Kingma &amp; Ba, 2015) as PyTorch's <c>torch.optim.Adam</c>
/// (https://pytorch.org/docs/stable/generated/torch.optim.Adam.html, amsgrad off): g ← g + λ·w;
/// m ← β₁·m + (1−β₁)·g; v ← β₂·v + (1−β₂)·g²; w ← w − (lr / (1−β₁ᵗ))·m / (√v / √(1−β₂ᵗ) + ε).
/// The bias corrections are computed in double, the rest in float32.
/// </summary>
public class Adam : Optimizer
{
    /// <summary>Decay of the first moment, β₁ in [0, 1) (default 0.9).</summary>
    public double Beta1 { get; init; } = 0.9;

    /// <summary>Decay of the second moment, β₂ in [0, 1) (default 0.999).</summary>
    public double Beta2 { get; init; } = 0.999;

    /// <summary>ε added to the denominator, positive (default 1e-8).</summary>
    public double Epsilon { get; init; } = 1e-8;

    /// <summary>True for AdamW: decay shrinks the weights instead of adding to the gradient.</summary>
    private protected virtual bool Decoupled => false;

    private protected override string[] SlotNames => ["exp_avg", "exp_avg_sq"];

    private protected override void ValidateSettings()
    {
        if (!(Beta1 >= 0 && Beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), Beta1, "β₁ must be in [0, 1)");
        if (!(Beta2 >= 0 && Beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(Beta2), Beta2, "β₂ must be in [0, 1)");
        if (!(Epsilon > 0 && double.IsFinite(Epsilon))) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "ε must be positive and finite");
    }

    private protected override void Step(float[] weights, float[] gradient, int parameter, float learningRate, float decay, long step)
    {
        float[] m = Slot(parameter, 0), v = Slot(parameter, 1);
        float stepSize = (float)(learningRate / (1 - Math.Pow(Beta1, step)));
        float correction2 = (float)Math.Sqrt(1 - Math.Pow(Beta2, step));
        float b1 = (float)Beta1, c1 = (float)(1 - Beta1), b2 = (float)Beta2, c2 = (float)(1 - Beta2), eps = (float)Epsilon;
        float shrink = Decoupled ? (float)(1 - (double)learningRate * decay) : 1f;
        float coupled = Decoupled ? 0f : decay;
        for (int i = 0; i < weights.Length; i++)
        {
            float w = weights[i], g = gradient[i];
            if (coupled != 0) g += coupled * w;
            else if (shrink != 1f) w *= shrink;
            float mi = b1 * m[i] + c1 * g;
            float vi = b2 * v[i] + c2 * (g * g);
            m[i] = mi;
            v[i] = vi;
            weights[i] = w - stepSize * (mi / (MathF.Sqrt(vi) / correction2 + eps));
        }
    }
}

/// <summary>
/// AdamW (Loshchilov &amp; Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) as PyTorch's
/// <c>torch.optim.AdamW</c> (https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html):
/// first w ← w·(1 − lr·λ), then the <see cref="Adam"/> update without the decay term in the gradient.
/// The default weight decay is PyTorch's, 0.01.
/// </summary>
public sealed class AdamW : Adam
{
    /// <summary>AdamW with weight decay 0.01 (set <see cref="Optimizer.WeightDecay"/> to change it).</summary>
    public AdamW() => WeightDecay = 0.01f;

    private protected override bool Decoupled => true;
}
