"""Spiking analysis: firing rates, MAC/SOP counts, energy, plots."""
from .energy import E_AC_PJ, E_MAC_PJ, EnergyAnalyzer, format_report
from .firing import FiringRateRecorder, find_time_steps, stage_name
from .ops import OpCounter, OpRecord, classify_input
from .plots import default_map_layers, plot_firing_rates, plot_spike_maps

__all__ = [
    'E_AC_PJ', 'E_MAC_PJ', 'EnergyAnalyzer', 'format_report',
    'FiringRateRecorder', 'find_time_steps', 'stage_name', 'OpCounter',
    'OpRecord', 'classify_input', 'default_map_layers', 'plot_firing_rates',
    'plot_spike_maps'
]
