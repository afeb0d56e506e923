{% macro main_customer_attributes() %}
    {#- The customer attributes in real units that the marts carry and profile. -#}
    {{ return([
        'balance', 'credit_limit', 'credit_utilisation', 'purchases', 'oneoff_purchases',
        'installments_purchases', 'cash_advance', 'payments', 'minimum_payments',
        'monthly_purchases', 'monthly_cash_advance', 'purchases_frequency',
        'cash_advance_frequency', 'prc_full_payment', 'tenure'
    ]) }}
{% endmacro %}
