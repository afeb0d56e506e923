-- One row per segment of the model version in use: name, description and campaign; size
-- and share; and for each main attribute in real units the mean, the median and the
-- z-score of the mean (how many standard deviations of all customers it lies from the
-- mean of all customers): the segment's profile, in units marketing reads. Means and
-- counts over every customer; medians over a seeded sample of at most var
-- statistics_sample_size customers (a median needs every value in memory).

with

customers as (

    select * from {{ ref('dim_customers') }}

),

customer_sample as (

    {{ seeded_customer_sample(ref('dim_customers')) }}

),

definitions as (

    select * from {{ ref('segment_definitions') }}
    where is_in_use

),

campaigns as (

    select * from {{ ref('segment_campaigns') }}

),

segment_campaigns as (

    -- A segment's own campaign, or the default one (segment_name '*') when the seed has
    -- none for its name.
    select
        definitions.model_version,
        definitions.segment_id,
        definitions.segment_name,
        definitions.description,
        coalesce(named.campaign, fallback.campaign) as campaign,
        coalesce(named.offer, fallback.offer) as offer,
        coalesce(named.channel, fallback.channel) as channel,
        named.segment_name is null as is_default_campaign
    from definitions
    left join campaigns as named on definitions.segment_name = named.segment_name
    left join campaigns as fallback on fallback.segment_name = '*'

),

segment_aggregates as (

    -- One pass over every customer: a row per segment, and one (is_all_customers = 1)
    -- over everyone, the base of the z-scores.
    select
        segment_id,
        model_version,
        grouping(segment_id) as is_all_customers,
        count(*) as customer_count,
        count(*) filter (where split = 'train') as train_customer_count,
        count(*) filter (where split = 'test') as test_customer_count,
        {%- for attribute in main_customer_attributes() %}
        avg({{ attribute }}) as avg_{{ attribute }},
        stddev_samp({{ attribute }}) as stddev_{{ attribute }},
        {%- endfor %}
        avg(distance_to_centroid) as avg_distance_to_centroid,
        count(*) filter (where is_atypical) as atypical_customer_count,
        avg(confidence) as avg_confidence
    from customers
    group by rollup((segment_id, model_version))

),

overall as (

    select * from segment_aggregates
    where is_all_customers = 1

),

profiles as (

    -- Means are rounded to 6 decimals: DuckDB sums doubles in parallel, in no fixed
    -- order, and the last bits would otherwise differ between identical builds.
    select
        segment_id,
        model_version,
        customer_count,
        train_customer_count,
        test_customer_count,
        {%- for attribute in main_customer_attributes() %}
        round(avg_{{ attribute }}, 6) as avg_{{ attribute }},
        {%- endfor %}
        round(avg_distance_to_centroid, 6) as avg_distance_to_centroid,
        atypical_customer_count,
        round(avg_confidence, 6) as avg_confidence
    from segment_aggregates
    where is_all_customers = 0

),

sample_medians as (

    select
        {%- for attribute in main_customer_attributes() %}
        round({{ median(attribute) }}, 6) as median_{{ attribute }},
        {%- endfor %}
        segment_id
    from customer_sample
    group by segment_id

),

final as (

    select
        profiles.segment_id,
        segment_campaigns.segment_name,
        segment_campaigns.description as segment_description,
        profiles.model_version,
        segment_campaigns.campaign,
        segment_campaigns.offer,
        segment_campaigns.channel,
        segment_campaigns.is_default_campaign,
        profiles.customer_count,
        cast(profiles.customer_count as double) / overall.customer_count as customer_share,
        profiles.train_customer_count,
        profiles.test_customer_count,
        profiles.avg_distance_to_centroid,
        profiles.atypical_customer_count,
        cast(profiles.atypical_customer_count as double)
        / profiles.customer_count as atypical_share,
        {%- for attribute in main_customer_attributes() %}
        cast(profiles.avg_{{ attribute }} as double) as avg_{{ attribute }},
        cast(sample_medians.median_{{ attribute }} as double) as median_{{ attribute }},
        cast(round(
            (profiles.avg_{{ attribute }} - overall.avg_{{ attribute }})
            / nullif(overall.stddev_{{ attribute }}, 0),
            6
        ) as double) as z_{{ attribute }},
        {%- endfor %}
        profiles.avg_confidence
    from profiles
    inner join segment_campaigns
        on
            profiles.model_version = segment_campaigns.model_version
            and profiles.segment_id = segment_campaigns.segment_id
    cross join overall
    left join sample_medians on profiles.segment_id = sample_medians.segment_id

)

select * from final
