COMMENT
Fast-spiking interneuron channels after Wang & Buzsaki (1996): transient Na with
instantaneous activation and a delayed-rectifier K, both with temperature factor phi.
Density mechanism; gnabar, gkbar in S/cm2.
The CONDUCTANCE hints give NEURON the chord conductances gna, gk as di/dv. Without them
it differentiates ina numerically, and with instantaneous activation that slope is
strongly negative near threshold (about -110 mS/cm2 at gnabar = 0.1): once it exceeds
cm/dt (40 mS/cm2 at dt = 0.025 ms) the implicit step diverges (soma at +200 mV and more).
ENDCOMMENT

NEURON {
    SUFFIX ndwb
    USEION na READ ena WRITE ina
    USEION k READ ek WRITE ik
    RANGE gnabar, gkbar, gna, gk, ina, ik, phi
}

UNITS {
    (mA) = (milliamp)
    (mV) = (millivolt)
    (S) = (siemens)
}

PARAMETER {
    gnabar = 0.035 (S/cm2)
    gkbar = 0.009 (S/cm2)
    phi = 5 (1)
}

ASSIGNED {
    v (mV)
    ena (mV)
    ek (mV)
    ina (mA/cm2)
    ik (mA/cm2)
    minf (1)
    gna (S/cm2)
    gk (S/cm2)
}

STATE {
    h
    n
}

INITIAL {
    h = alpha_h(v) / (alpha_h(v) + beta_h(v))
    n = alpha_n(v) / (alpha_n(v) + beta_n(v))
}

BREAKPOINT {
    CONDUCTANCE gna USEION na
    CONDUCTANCE gk USEION k
    SOLVE states METHOD cnexp
    minf = alpha_m(v) / (alpha_m(v) + beta_m(v))
    gna = gnabar * minf * minf * minf * h
    gk = gkbar * n * n * n * n
    ina = gna * (v - ena)
    ik = gk * (v - ek)
}

DERIVATIVE states {
    h' = phi * (alpha_h(v) * (1 - h) - beta_h(v) * h)
    n' = phi * (alpha_n(v) * (1 - n) - beta_n(v) * n)
}

FUNCTION vtrap(x (mV), y (mV)) (mV) {
    : x / (1 - exp(-x/y)), continuous at x = 0
    if (fabs(x / y) < 1e-6) {
        vtrap = y * (1 + x / y / 2)
    } else {
        vtrap = x / (1 - exp(-x / y))
    }
}

FUNCTION alpha_m(v (mV)) (/ms) { alpha_m = 0.1 * vtrap(v + 35, 10) }
FUNCTION beta_m(v (mV)) (/ms) { beta_m = 4 * exp(-(v + 60) / 18) }
FUNCTION alpha_h(v (mV)) (/ms) { alpha_h = 0.07 * exp(-(v + 58) / 20) }
FUNCTION beta_h(v (mV)) (/ms) { beta_h = 1 / (exp(-(v + 28) / 10) + 1) }
FUNCTION alpha_n(v (mV)) (/ms) { alpha_n = 0.01 * vtrap(v + 34, 10) }
FUNCTION beta_n(v (mV)) (/ms) { beta_n = 0.125 * exp(-(v + 44) / 80) }
